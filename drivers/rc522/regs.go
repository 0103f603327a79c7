package rc522

import "time"

// MFRC522 registers (datasheet, register overview) and the values this
// driver writes to them.
const (
	regCommand    = 0x01
	regComIEn     = 0x02
	regDivIEn     = 0x03
	regComIrq     = 0x04
	regError      = 0x06
	regFIFOData   = 0x09
	regFIFOLevel  = 0x0A
	regControl    = 0x0C
	regBitFraming = 0x0D
	regMode       = 0x11
	regTxControl  = 0x14
	regTxASK      = 0x15
	regTMode      = 0x2A
	regTPrescaler = 0x2B
	regTReloadH   = 0x2C
	regTReloadL   = 0x2D
	regVersion    = 0x37
)

// CommandReg values (datasheet, command overview).
const (
	cmdIdle       = 0x00
	cmdTransceive = 0x0C
	cmdSoftReset  = 0x0F
	bitPowerDown  = 0x10
	// commandReset is CommandReg's reset value: RcvOff, Idle, powered.
	commandReset = 0x20
)

// ComIrqReg and ComIEnReg bits.
const (
	irqTimer = 0x01
	irqErr   = 0x02
	irqRx    = 0x20
	irqSet1  = 0x80 // write-only in ComIrqReg, reads 0; IRqInv in ComIEnReg
)

// ErrorReg bits.
const (
	errProtocol   = 0x01
	errParity     = 0x02
	errCRC        = 0x04
	errColl       = 0x08
	errBufferOvfl = 0x10
	errTemp       = 0x40
	errWr         = 0x80
)

// timerTick is the period of the chip's timer with TPrescaler 0xA9.
const timerTick = 25 * time.Microsecond

const (
	// tModeAuto starts the timer at the end of each transmission (TAuto);
	// with TPrescaler 0xA9 the timer ticks at 13.56 MHz/339 = 40 kHz.
	tModeAuto   = 0x80
	tPrescaler  = 0xA9
	txASK100    = 0x40 // Force100ASK, required by ISO/IEC 14443 type A
	modeDefault = 0x3D // TxWaitRF, PolMFin high, CRC preset 6363h
	txAntennaOn = 0x83 // InvTx2RFOn (reset value) plus Tx1RFEn, Tx2RFEn
	txAntennaOf = 0x80
	comIEnIRQ   = irqSet1 | irqRx | irqErr | irqTimer // IRqInv: active low
	comIEnPoll  = irqSet1                             // reset value: nothing routed to IRQ
	divIEnPush  = 0x80                                // IRQPushPull: CMOS output
	fifoFlush   = 0x80
	startSend   = 0x80
)

// ISO/IEC 14443-3 type A commands.
const (
	piccWUPA    = 0x52
	piccHLTA    = 0x50
	ctCascade   = 0x88 // cascade tag, first byte of an incomplete UID part
	sakCascade  = 0x04 // SAK bit: UID not complete
	nvbAnticoll = 0x20 // number of valid bits: SEL and NVB only
	nvbSelect   = 0x70 // SEL, NVB, 4 UID bytes and BCC
)

// selCodes are the SEL bytes of cascade levels 1, 2 and 3.
var selCodes = [3]byte{0x93, 0x95, 0x97}
