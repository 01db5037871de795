package server

import (
	"net"
	"sync"
)

// limitListener accepts at most n connections at a time: Accept waits for
// an open connection to close before it takes the next from the kernel's
// backlog. Every connection holds a file descriptor, a goroutine and
// buffers, and a client can open them faster than slow requests end; with
// the bound, such a client fills the backlog instead of exhausting the
// process's file descriptors (which also stops the database pool and the
// log from opening any). It is golang.org/x/net/netutil.LimitListener's
// idea, written here to add no module.
type limitListener struct {
	net.Listener
	slots     chan struct{} // one element per open connection
	done      chan struct{} // closed by Close: Accept stops waiting
	closeOnce sync.Once
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// limitConn gives its slot back when it is closed, once, however often
// Close is called.
type limitConn struct {
	net.Conn
	releaseOnce sync.Once
	release     func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.releaseOnce.Do(c.release)
	return err
}
