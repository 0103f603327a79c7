// Package gpiocdev requests GPIO lines from the Linux GPIO character device
// (/dev/gpiochipN, the v2 uAPI of linux/gpio.h), and finds lines by the
// names the kernel gives them. Every GPIO line Pintu drives or reads goes
// through it; nothing reaches a SoC's registers directly.
//
//   - Chips, ReadChip and ReadLineInfo report the chips, their lines' names,
//     and who holds a line with which flags, as gpioinfo does.
//   - Lookup finds a line by name across chips, as gpiofind does: on a
//     Raspberry Pi 0 to 4 gpiochip0 (pinctrl-bcm2835 or -bcm2711) names its
//     lines GPIO0, GPIO1…, and a Pi 5 names them on the RP1's chip
//     (pinctrl-rp1), whatever number the kernel gives it. A name on two
//     chips is an error naming both; a missing one lists what there is.
//   - RequestLines makes one request for lines of one chip, with their
//     direction, bias, edges, event clock and buffer, and for outputs their
//     levels, in one ioctl. drivers/wiegand reads its edge events.
//   - Line is one line as a periph gpio.PinIO, requested by its first In,
//     Out or Read with that call's configuration, for the drivers that take
//     a pin (relay, input, indicator, the readers' reset and IRQ lines).
//
// # Why not periph's gpioioctl
//
// periph.io's host/v3/gpioioctl also speaks the v2 uAPI, but cannot say
// what a door needs said, and on a Pi 0 to 4 periph's registry hands out
// its bcm283x driver instead, which writes the GPIO registers through
// /dev/gpiomem and requests nothing from the kernel:
//
//   - its Out requests the line as an output with no initial value and
//     writes the level after: the kernel drives the line low in between,
//     which for an active-low or fail-safe relay is a release;
//   - it maps gpio.Float to no bias flag at all, so "no pull" leaves the
//     SoC's default pull on; here Float is GPIO_V2_LINE_FLAG_BIAS_DISABLED;
//   - its consumer label is fixed (program@pid); here each line says what
//     it is for;
//   - a line held by another program is an anonymous EBUSY; here it is an
//     error naming the line, its chip and the holder.
//
// The uAPI structs and most ioctl numbers are golang.org/x/sys/unix's,
// generated from linux/gpio.h for each architecture.
//
// # Caveats
//
// Releasing a line (Close, or the process ending) leaves it to the chip's
// driver: a Raspberry Pi keeps driving an output at its last level.
//
// The bias flags need a GPIO driver that supports bias: the Raspberry Pi's
// do; one that does not ignores them, and the kernel still records them
// (ReadLineInfo).
//
// Needs kernel 5.10 or later.
package gpiocdev
