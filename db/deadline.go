package db

import (
	"context"
	"database/sql/driver"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groupd/groupd/errors"
	"github.com/lib/pq"
)

// lib/pq honours a context only by asking PostgreSQL to cancel the statement
// (a cancel request on a second connection) and then waiting for its answer.
// A server that does not answer at all (frozen, or behind a network
// partition) therefore holds the statement, its connection and the request
// forever. The connector below closes that gap: when the context of a call
// ends, the socket of the connection gets a deadline in the past, so the
// blocked read fails at once, lib/pq marks the connection bad and
// database/sql drops it. Contexts that end normally cost one AfterFunc
// registration per call.

// cancelRequestTimeout bounds the cancel requests lib/pq sends on
// connections of their own when a context ends, and which it reads until the
// server closes them: a statement returns only after its cancel request, so
// a call can outlast its context by this much. A server that answers at all
// answers a cancel request in milliseconds.
const cancelRequestTimeout = time.Second

// expired is a deadline in the past.
var expired = time.Unix(1, 0)

type deadlineConnector struct {
	base *pq.Connector
}

func newDeadlineConnector(url string) (*deadlineConnector, error) {
	c, err := pq.NewConnector(url)
	if err != nil {
		return nil, err
	}
	return &deadlineConnector{base: c}, nil
}

func (c *deadlineConnector) Driver() driver.Driver { return c.base.Driver() }

// Connect opens a connection whose socket the returned conn can expire. The
// connection's own start-up is bounded by ctx the same way.
func (c *deadlineConnector) Connect(ctx context.Context) (driver.Conn, error) {
	d := &recordingDialer{}
	pc := *c.base // a copy, so that the dialer is this connection's own
	pc.Dialer(d)
	stop := context.AfterFunc(ctx, d.expire)
	inner, err := pc.Connect(ctx)
	stop()
	nc := d.connected()
	if err != nil {
		if d.expired.Load() && ctx.Err() != nil {
			return nil, errors.Errorf("%w: %w", ctx.Err(), err)
		}
		return nil, err
	}
	if nc == nil || d.expired.Load() {
		inner.Close()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, driver.ErrBadConn
	}
	return &deadlineConn{inner: inner, nc: nc}, nil
}

// recordingDialer remembers the socket of the connection being opened;
// sockets it dials later are lib/pq's cancel requests, which it bounds.
type recordingDialer struct {
	net.Dialer
	mu      sync.Mutex
	nc      net.Conn
	done    bool
	expired atomic.Bool
}

func (d *recordingDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d *recordingDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d *recordingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	nc, err := d.Dialer.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done {
		nc.SetDeadline(time.Now().Add(cancelRequestTimeout))
		return nc, nil
	}
	d.nc = nc
	if d.expired.Load() {
		nc.SetDeadline(expired)
	}
	return nc, nil
}

// expire runs when the context of Connect ends before Connect does.
func (d *recordingDialer) expire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expired.Store(true)
	if d.nc != nil && !d.done {
		d.nc.SetDeadline(expired)
	}
}

// connected ends the recording and returns the connection's socket.
func (d *recordingDialer) connected() net.Conn {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done = true
	return d.nc
}

// deadlineConn is lib/pq's connection with its socket at hand.
type deadlineConn struct {
	inner driver.Conn
	nc    net.Conn
	bad   atomic.Bool // the socket was expired: never reuse
	// last is the context of the latest call, for the round trips that
	// database/sql makes without one (closing the statements of a
	// transaction after its commit).
	last atomic.Pointer[context.Context]
}

// watch expires the socket if ctx ends before the returned stop is called.
func (c *deadlineConn) watch(ctx context.Context) (stop func() bool) {
	c.last.Store(&ctx)
	if ctx.Done() == nil {
		return func() bool { return true }
	}
	return context.AfterFunc(ctx, func() {
		c.bad.Store(true)
		c.nc.SetDeadline(expired)
	})
}

// Interfaces of database/sql/driver that lib/pq's connection implements.
var (
	_ driver.ConnPrepareContext = (*deadlineConn)(nil)
	_ driver.ConnBeginTx        = (*deadlineConn)(nil)
	_ driver.ExecerContext      = (*deadlineConn)(nil)
	_ driver.QueryerContext     = (*deadlineConn)(nil)
	_ driver.Pinger             = (*deadlineConn)(nil)
	_ driver.SessionResetter    = (*deadlineConn)(nil)
	_ driver.Validator          = (*deadlineConn)(nil)
	_ driver.NamedValueChecker  = (*deadlineConn)(nil)
)

func (c *deadlineConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *deadlineConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	stop := c.watch(ctx)
	defer stop()
	st, err := c.inner.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &deadlineStmt{inner: st, c: c}, nil
}

// Close closes the connection; one whose socket was expired is known to be
// broken, so its failure to say goodbye is no error.
func (c *deadlineConn) Close() error {
	err := c.inner.Close()
	if c.bad.Load() {
		return nil
	}
	return err
}

func (c *deadlineConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx watches ctx for the whole transaction: a commit that hangs is
// ended too.
func (c *deadlineConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	stop := c.watch(ctx)
	tx, err := c.inner.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		stop()
		return nil, err
	}
	return &deadlineTx{inner: tx, stop: stop}, nil
}

func (c *deadlineConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	stop := c.watch(ctx)
	defer stop()
	return c.inner.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *deadlineConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	stop := c.watch(ctx)
	rows, err := c.inner.(driver.QueryerContext).QueryContext(ctx, query, args)
	if err != nil {
		stop()
		return nil, err
	}
	return &deadlineRows{Rows: rows, stop: stop}, nil
}

func (c *deadlineConn) Ping(ctx context.Context) error {
	stop := c.watch(ctx)
	defer stop()
	return c.inner.(driver.Pinger).Ping(ctx)
}

func (c *deadlineConn) ResetSession(ctx context.Context) error {
	if c.bad.Load() {
		return driver.ErrBadConn
	}
	return c.inner.(driver.SessionResetter).ResetSession(ctx)
}

func (c *deadlineConn) IsValid() bool {
	return !c.bad.Load() && c.inner.(driver.Validator).IsValid()
}

func (c *deadlineConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.inner.(driver.NamedValueChecker).CheckNamedValue(nv)
}

type deadlineTx struct {
	inner driver.Tx
	stop  func() bool
}

func (t *deadlineTx) Commit() error {
	defer t.stop()
	return t.inner.Commit()
}

func (t *deadlineTx) Rollback() error {
	defer t.stop()
	return t.inner.Rollback()
}

type deadlineStmt struct {
	inner driver.Stmt
	c     *deadlineConn
}

// Close is a round trip too: bounded by the context of the statement's
// last use (a statement closed after its context ended costs the
// connection, which is then dropped).
func (s *deadlineStmt) Close() error {
	if last := s.c.last.Load(); last != nil {
		stop := s.c.watch(*last)
		defer stop()
	}
	return s.inner.Close()
}

func (s *deadlineStmt) NumInput() int { return s.inner.NumInput() }

// Exec and Query are driver.Stmt's required methods; database/sql calls the
// context variants below, and these pass through for anything that does not.
//
//lint:ignore SA1019 driver.Stmt requires Exec; it passes through to the inner statement unchanged
func (s *deadlineStmt) Exec(args []driver.Value) (driver.Result, error) { return s.inner.Exec(args) }

//lint:ignore SA1019 driver.Stmt requires Query; it passes through to the inner statement unchanged
func (s *deadlineStmt) Query(args []driver.Value) (driver.Rows, error) { return s.inner.Query(args) }

func (s *deadlineStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	stop := s.c.watch(ctx)
	defer stop()
	if ec, ok := s.inner.(driver.StmtExecContext); ok {
		return ec.ExecContext(ctx, args)
	}
	// lib/pq's COPY statement has no context variant.
	values, err := plainValues(args)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 lib/pq's COPY statement implements only the deprecated Exec
	return s.inner.Exec(values)
}

func (s *deadlineStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	stop := s.c.watch(ctx)
	var rows driver.Rows
	var err error
	if qc, ok := s.inner.(driver.StmtQueryContext); ok {
		rows, err = qc.QueryContext(ctx, args)
	} else {
		var values []driver.Value
		if values, err = plainValues(args); err == nil {
			//lint:ignore SA1019 a statement without StmtQueryContext offers only the deprecated Query
			rows, err = s.inner.Query(values)
		}
	}
	if err != nil {
		stop()
		return nil, err
	}
	return &deadlineRows{Rows: rows, stop: stop}, nil
}

func plainValues(args []driver.NamedValue) ([]driver.Value, error) {
	values := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, driver.ErrSkip
		}
		values[i] = a.Value
	}
	return values, nil
}

// deadlineRows keeps watching the context until the rows are closed: their
// reading is part of the statement.
type deadlineRows struct {
	driver.Rows
	stop func() bool
}

func (r *deadlineRows) Close() error {
	defer r.stop()
	return r.Rows.Close()
}
