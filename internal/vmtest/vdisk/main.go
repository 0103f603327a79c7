// Command vdisk is the disk of the power-cut test (.ci/powercut): an NBD
// server, for QEMU's NBD client over a unix socket, that puts a raw image
// behind a volatile write cache, as an SD card or an SSD keeps recent writes
// in RAM. A write is acknowledged once it is in vdisk's memory and reaches
// the image on a flush, or at once if it carries FUA. Signals cut the power:
//
//	SIGKILL   every write since the last flush is lost
//	SIGUSR1   each cached 4 KiB block reaches the image with probability
//	          -persist, the rest is lost, and vdisk exits: a cache that was
//	          part way through writing back
//	SIGUSR2   arm: at the next flush (or FUA write) that finds data in the
//	          cache, stop answering and create SOCKET.frozen, so that the cut
//	          that follows lands with writes unflushed and a flush outstanding
//	SIGTERM   exit, writing nothing back
//
// With -lying, flushes and FUA are acknowledged and do nothing: a disk that
// lies about durability, the test's control.
//
//	vdisk -image disk.img -socket vdisk.sock [-lying] [-persist 0.5] [-seed N]
//	qemu-system-x86_64 ... -drive driver=raw,file.driver=nbd,file.server.type=unix,file.server.path=vdisk.sock,if=virtio,cache=writeback
//
// It uses only the standard library.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

func main() {
	image := flag.String("image", "", "the raw disk image")
	sock := flag.String("socket", "", "unix socket to listen on")
	lying := flag.Bool("lying", false, "acknowledge flush and FUA without writing anything back")
	persist := flag.Float64("persist", 0.5, "on SIGUSR1, the probability that a cached block reaches the image")
	seed := flag.Uint64("seed", 1, "seed of the choice of blocks that survive SIGUSR1")
	flag.Parse()
	log.SetFlags(0)
	if *image == "" || *sock == "" || flag.NArg() > 0 || *persist < 0 || *persist > 1 {
		flag.Usage()
		os.Exit(2)
	}
	err := run(*image, *sock, *lying, *persist, *seed)
	log.Fatalf("vdisk: %v", err)
}

// run serves until a signal ends the process; it returns only on failure.
func run(image, sock string, lying bool, persist float64, seed uint64) error {
	img, err := os.OpenFile(image, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	c, err := newCache(img, lying)
	if err != nil {
		return err
	}
	os.Remove(sock)
	os.Remove(sock + ".frozen")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	var armed atomic.Bool
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM)
	go func() {
		for s := range sigs {
			switch s {
			case syscall.SIGUSR2:
				armed.Store(true)
				log.Printf("vdisk: armed")
				continue
			case syscall.SIGTERM:
				log.Printf("vdisk: SIGTERM, nothing written back: %v", c)
				os.Exit(0)
			}
			kept, dirty, err := c.Cut(persist, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)))
			log.Printf("vdisk: power cut: %d of %d dirty blocks reached the image", kept, dirty)
			log.Printf("vdisk: at the cut: %v", c)
			if err != nil {
				log.Fatalf("vdisk: cut: %v", err)
			}
			os.Exit(0)
		}
	}()
	s := &server{c: c, armed: &armed, logf: log.Printf,
		freeze: func(why string, dirty int) {
			log.Printf("vdisk: frozen %s with %d dirty blocks", why, dirty)
			if err := os.WriteFile(sock+".frozen", []byte(fmt.Sprintln(dirty)), 0o644); err != nil {
				log.Printf("vdisk: %v", err)
			}
			select {} // the power is failing: answer nothing more
		}}
	log.Printf("vdisk: serving %s (%d bytes) on %s, lying=%v", image, c.size, sock, lying)
	for {
		nc, err := ln.Accept()
		if err != nil {
			return err
		}
		if err := s.serve(nc); err != nil {
			log.Printf("vdisk: connection: %v", err)
		}
		nc.Close()
	}
}
