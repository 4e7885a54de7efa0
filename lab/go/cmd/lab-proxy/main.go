// lab-proxy is the network path between one lab client and the API server: a plain TCP
// forwarder. While the file named by --blackhole exists it drops the traffic instead: bytes in
// flight stop moving and new connections are accepted but never answered, which is what a
// client sees when a firewall or NetworkPolicy silently drops its packets. Removing the file
// closes the stalled connections, so the client reconnects.
//
//	lab-proxy --listen 127.0.0.1:18444 --upstream 127.0.0.1:16443 --blackhole FILE
package main

import (
	"flag"
	"log"
	"net"
	"os"
	"sync"
	"time"
)

type conns struct {
	mu  sync.Mutex
	set map[net.Conn]struct{}
}

func (c *conns) add(n net.Conn)    { c.mu.Lock(); c.set[n] = struct{}{}; c.mu.Unlock() }
func (c *conns) remove(n net.Conn) { c.mu.Lock(); delete(c.set, n); c.mu.Unlock() }
func (c *conns) closeAll() {
	c.mu.Lock()
	for n := range c.set {
		n.Close()
	}
	c.set = map[net.Conn]struct{}{}
	c.mu.Unlock()
}

func blackholed(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func main() {
	listen := flag.String("listen", "", "address to listen on")
	upstream := flag.String("upstream", "", "address to forward to")
	hole := flag.String("blackhole", "", "while this file exists, traffic is dropped")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("lab-proxy: listen %s: %v", *listen, err)
	}
	stalled := &conns{set: map[net.Conn]struct{}{}}
	live := &conns{set: map[net.Conn]struct{}{}}
	go func() {
		was := false
		for range time.Tick(200 * time.Millisecond) {
			now := blackholed(*hole)
			if now && !was {
				log.Printf("lab-proxy: blackhole on")
			}
			if !now && was {
				log.Printf("lab-proxy: blackhole off; closing stalled connections")
				stalled.closeAll()
				live.closeAll()
			}
			was = now
		}
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Printf("lab-proxy: accept: %v", err)
			continue
		}
		if blackholed(*hole) {
			stalled.add(c)
			continue
		}
		go func(c net.Conn) {
			up, err := net.DialTimeout("tcp", *upstream, 5*time.Second)
			if err != nil {
				c.Close()
				return
			}
			live.add(c)
			live.add(up)
			pipe := func(dst, src net.Conn) {
				buf := make([]byte, 32*1024)
				for {
					n, err := src.Read(buf)
					for n > 0 && blackholed(*hole) {
						// Dropped on the floor: hold the bytes, like a packet that never arrives.
						time.Sleep(200 * time.Millisecond)
						if _, serr := os.Stat(*hole); serr != nil {
							break
						}
					}
					if n > 0 {
						if _, werr := dst.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				dst.Close()
				src.Close()
				live.remove(dst)
				live.remove(src)
			}
			go pipe(up, c)
			pipe(c, up)
		}(c)
	}
}

