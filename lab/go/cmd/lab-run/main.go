// lab-run is the lab's stand-in for a container runtime's log handling: it runs one command
// and writes its stdout and stderr, line by line, to a file in the CRI log format
// ("2016-10-06T00:17:09.669794202Z stdout F text"), which is what KWOK serves as the pod's
// container log. Everything else about the process is real. With --exit FILE it also records
// how the process ended ("CODE SIGNAL FINISHED-AT", SIGNAL "-" when it exited by itself), which
// the lab's kubelet stand-in (lab-kubelet) shows as the container's last state.
//
//	lab-run --log FILE [--exit FILE] -- COMMAND [ARGS...]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	logPath := flag.String("log", "", "CRI-format log file to append to")
	exitPath := flag.String("exit", "", "where to record the exit code when the process ends")
	flag.Parse()
	args := flag.Args()
	if *logPath == "" || len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: lab-run --log FILE -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	f, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab-run: cannot open log %s: %v\n", *logPath, err)
		os.Exit(2)
	}
	defer f.Close()

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = os.Environ()
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "lab-run: cannot start %s: %v\n", args[0], err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	copyLines := func(stream string, r io.Reader) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			mu.Lock()
			fmt.Fprintf(f, "%s %s F %s\n", time.Now().UTC().Format(time.RFC3339Nano), stream, sc.Text())
			mu.Unlock()
		}
	}
	wg.Add(2)
	go copyLines("stdout", stdout)
	go copyLines("stderr", stderr)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sigs
		_ = cmd.Process.Signal(s)
	}()
	wg.Wait()
	err = cmd.Wait()
	code, sig := 0, "-"
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
			sig = unix.SignalName(ws.Signal())
		}
	}
	if *exitPath != "" {
		rec := fmt.Sprintf("%d %s %s\n", code, sig, time.Now().UTC().Format(time.RFC3339Nano))
		_ = os.WriteFile(*exitPath, []byte(rec), 0o644)
	}
	if code != 0 {
		os.Exit(code)
	}
}
