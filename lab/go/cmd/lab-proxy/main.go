// lab-proxy is the network path between one lab client and the API server: a plain TCP
// forwarder. While the file named by --blackhole exists it drops the traffic instead: bytes in
// flight stop moving and new connections are accepted but never answered, which is what a
// client sees when a firewall or NetworkPolicy silently drops its packets. Removing the file
// closes the stalled connections, so the client reconnects.
//
// With --stats FILE it also counts the bytes it carries each way and keeps FILE up to date
// ("down UP" bytes, down = upstream to client): the benchmarks read how much a tool took
// from the API server.
//
//	lab-proxy --listen 127.0.0.1:18444 --upstream 127.0.0.1:16443 --blackhole FILE [--stats FILE]
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
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
	stats := flag.String("stats", "", "keep the byte counts (down up) in this file")
	flag.Parse()
	var down, up atomic.Int64
	if *stats != "" {
		go func() {
			last := ""
			for range time.Tick(100 * time.Millisecond) {
				now := fmt.Sprintf("%d %d\n", down.Load(), up.Load())
				if now != last {
					_ = os.WriteFile(*stats+".tmp", []byte(now), 0o644)
					_ = os.Rename(*stats+".tmp", *stats)
					last = now
				}
			}
		}()
	}
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
			upc, err := net.DialTimeout("tcp", *upstream, 5*time.Second)
			if err != nil {
				c.Close()
				return
			}
			live.add(c)
			live.add(upc)
			pipe := func(dst, src net.Conn, count *atomic.Int64) {
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
						count.Add(int64(n))
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
			go pipe(upc, c, &up)
			pipe(c, upc, &down)
		}(c)
	}
}
