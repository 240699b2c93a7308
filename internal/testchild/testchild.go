// Package testchild runs the test binary itself as a child process, for
// tests that need a real process to kill (SIGKILL) or to restart: the
// child runs one Test...Child function of the same package, chosen with
// -test.run, and reads its parameters from the environment.
package testchild

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Child is a running child test process.
type Child struct {
	Cmd   *exec.Cmd
	Stdin io.WriteCloser // closing it asks a well-behaved child to stop
	Out   Buffer         // its stdout and stderr
}

// Start runs the test function test of the current test binary in a child
// process with env added to this process's environment. At cleanup it
// closes the child's stdin and waits for it to end, killing it after 20 s.
func Start(t testing.TB, test string, env ...string) *Child {
	t.Helper()
	c := &Child{Cmd: exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.v")}
	c.Cmd.Env = append(os.Environ(), env...)
	c.Cmd.Stdout, c.Cmd.Stderr = &c.Out, &c.Out
	var err error
	if c.Stdin, err = c.Cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Stdin.Close()
		done := make(chan struct{})
		go func() { _ = c.Cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = c.Cmd.Process.Kill()
			<-done
		}
	})
	return c
}

// Buffer is a bytes.Buffer safe for concurrent use: a child process or a
// logger writes it while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Lines returns the non-empty lines of the file at path, trimmed; none if
// it does not exist yet (a child records there what it handled).
func Lines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
