// Package wiegand reads card readers with a Wiegand interface: two data
// lines, D0 and D1, idle high, each pulled low for 20 to 100 µs to send a 0
// or a 1, a bit every 0.2 to 20 ms. It owns the line request, the timing of
// frames and the card formats; what a card means is up to its caller.
//
// Open requests D0 and D1 from the Linux GPIO character device as one line
// request (the v2 uAPI), so that the kernel timestamps and numbers the
// falling edges of both lines in its interrupt handler and queues them on
// one descriptor. A Dev puts them back in the order of their numbers,
// decodes them in a goroutine and delivers each Card on Reads:
//
//	d, err := wiegand.Open("gpiochip0", 17, 27, &wiegand.Opts{Lengths: []int{26, 34}})
//	if err != nil {
//		return err
//	}
//	defer d.Close()
//	for c := range d.Reads() {
//		fmt.Println(c) // "H10301:123:45678"
//	}
//
// New takes any EdgeSource instead, for tests and simulators. The Decoder
// is the pure state machine underneath: edges in, cards out, with time
// taken from the edges only.
//
// # Formats
//
// 26-bit H10301, 34-bit H10306, 35-bit Corporate 1000 and 37-bit H10304 or
// H10302, parity checked, and raw frames of any other configured length.
// Card.String is a stable identifier that keeps the format and facility
// code: two cards with the same number but different facility codes are
// different cards.
//
// # End of frame
//
// Wiegand has no end-of-frame marker: a frame ends when the bits stop.
// With Opts.Lengths set, a frame that reaches one of those lengths with good
// parity is accepted once no bit followed within twice its mean bit
// interval (at least 1 ms): 4 ms after the last bit at a 2 ms bit interval,
// 1.8 ms at 900 µs, 1 ms at 200 µs. Otherwise a frame ends after Opts.Gap
// (25 ms) of silence.
//
// The kernel stamps an edge in its interrupt handler and queues it from a
// thread a little later, so a Dev waits past a frame's end for edges
// stamped before it: four times the longest delivery lag it measured over
// about the last two frames (how long after its stamp the newest edge of a
// read reached it), from 0.5 to 2 ms. Without that wait, a 34-bit frame
// whose 27th edge is queued late could be cut to a 26-bit card that
// happens to have good parity. A frame with bad parity, an unexpected length, fewer
// than 4 bits, or an edge lost by the kernel or come too late is discarded
// and counted in Stats, never turned into a card.
//
// # Datasheet
//
// HID, "Understanding Card Data Formats" (formats, parity):
// https://www.hidglobal.com/sites/default/files/hid-understanding_card_data_formats-wp-en.pdf
//
// Security Industry Association, "Access Control Standard Protocol for the
// 26-Bit Wiegand Reader Interface", SIA AC-01 (timing, H10301).
//
// Linux GPIO character device uAPI, v2:
// https://docs.kernel.org/userspace-api/gpio/chardev.html
//
// # Caveats
//
// Without Opts.Lengths, two frames sent closer together than Opts.Gap merge
// into one frame of a wrong length and are both lost; set Lengths to the
// reader's output.
//
// A glitch (a relay, a long unshielded cable) within Opts.Gap of a frame
// joins it and spoils it; the read is lost, never misread.
//
// Raw frames (lengths other than 26, 34, 35 and 37) carry no parity that
// this package knows of: a bit error in one goes undetected.
//
// 37-bit H10304 and H10302 frames cannot be told apart; Opts.H10302 picks
// one for the reader.
//
// The kernel keeps Opts.BufferSize edges; if the reading goroutine falls
// further behind (for instance, no one drains Reads), it drops the oldest,
// and the frames around the loss are discarded (Stats.Dropped).
//
// The kernel numbers the edges of D0 and D1 in the order they happened,
// but each line's interrupt thread queues its own: with more than one CPU,
// two edges close together are now and then queued out of order. A Dev
// holds an edge that comes before one numbered ahead of it until that one
// comes, for at most 1 ms after the held edge's timestamp (and at most 32
// edges); this delays nothing but the held edges, and does not move the
// end of a frame. An edge still missing then is taken as lost: the frames
// around it are discarded (Stats.Dropped, Stats.LostEdges) and, should it
// come later, it is left out (Stats.Late). The thread runs at real-time
// priority; only a system that holds it off for a millisecond loses reads
// this way. Stats.Reordered counts the edges put back in order. A Decoder
// fed directly does not reorder: an edge numbered behind one already fed
// discards the frame under way.
//
// The wait past a frame's end follows the delivery lag measured on the
// frames before: a lag that jumps, within one frame, past four times the
// worst of the last two frames and past the frame's own settle time can
// still cut a longer frame short. It is bounded by 2 ms, the fixed wait
// of earlier versions.
//
// With Opts.Realtime, a step of the wall clock during a frame (NTP, a
// manual set) can split or spoil it, and a step back just after an edge
// is lost holds the edges that follow (up to 32) until the clock is back;
// the default monotonic clock does not step.
//
// Open needs kernel 5.10 or later (GPIO v2 uAPI) and, for Opts.PullUp, a
// GPIO driver that supports bias. D0 and D1 of a 5 V reader need a level
// shifter to the Raspberry Pi's 3.3 V inputs.
package wiegand
