package rc522

import "github.com/pintu/pintu/drivers/cardpoll"

// UID is a card's unique identifier as the card sent it: 4, 7 or 10 bytes,
// cascade tags removed. String gives uppercase hex, for example
// "04A1B2C3D4E5F6".
type UID = cardpoll.UID

// crcA returns the ISO/IEC 14443-3 CRC_A of b (preset 0x6363, reflected
// polynomial 0x8408), low byte first as it is transmitted.
func crcA(b []byte) [2]byte {
	crc := uint16(0x6363)
	for _, c := range b {
		c ^= byte(crc)
		c ^= c << 4
		crc = crc>>8 ^ uint16(c)<<8 ^ uint16(c)<<3 ^ uint16(c)>>4
	}
	return [2]byte{byte(crc), byte(crc >> 8)}
}

// bcc returns the block check character of a cascade level: the XOR of its
// four UID bytes.
func bcc(b []byte) byte {
	return b[0] ^ b[1] ^ b[2] ^ b[3]
}
