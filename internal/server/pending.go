package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// pending bounds what a client can hold before glint knows who it is:
// only headers had a timeout, so a body sent one byte at a time (a login,
// a JSON document) kept its connection and goroutine forever. Now every
// body that is not image data must arrive within bodyTimeout, and at most
// cap connections and requests wait on their clients at once: a new
// connection holds a slot until its first request's headers are in, a
// request holds one while its body arrives. Beyond the cap new
// connections are closed at once and body requests get 503. Image data
// (PUT .../file and .../stage) is exempt: the API gives it an idle
// timeout per read, and authenticates before reading it.
type pending struct {
	slots       chan struct{}
	bodyTimeout time.Duration
	conns       sync.Map // net.Conn → *connSlot
}

// connSlot is a connection's slot, held until its first request.
type connSlot struct {
	once sync.Once
	p    *pending
	held bool
}

func (c *connSlot) release() {
	c.once.Do(func() {
		if c.held {
			<-c.p.slots
		}
	})
}

type connSlotKey struct{}

func newPending(capacity int, bodyTimeout time.Duration) *pending {
	return &pending{slots: make(chan struct{}, capacity), bodyTimeout: bodyTimeout}
}

// connContext (http.Server.ConnContext) gives a new connection a slot, or
// closes it when there is none.
func (p *pending) connContext(ctx context.Context, c net.Conn) context.Context {
	slot := &connSlot{p: p}
	select {
	case p.slots <- struct{}{}:
		slot.held = true
		p.conns.Store(c, slot)
	default:
		c.Close()
	}
	return context.WithValue(ctx, connSlotKey{}, slot)
}

// connState (http.Server.ConnState) frees the slot of a connection that
// closes before its first request.
func (p *pending) connState(c net.Conn, st http.ConnState) {
	if st == http.StateClosed || st == http.StateHijacked {
		if v, ok := p.conns.LoadAndDelete(c); ok {
			v.(*connSlot).release()
		}
	}
}

// wrap bounds the body of every request that is not image data.
func (p *pending) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slot, ok := r.Context().Value(connSlotKey{}).(*connSlot); ok {
			slot.release()
		}
		if r.Body == nil || r.Body == http.NoBody || isTransfer(r) {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case p.slots <- struct{}{}:
		default:
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "5")
			http.Error(w, "Too many clients are sending requests; try again later.", http.StatusServiceUnavailable)
			return
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(p.bodyTimeout))
		body := &deadlineBody{ReadCloser: r.Body, rc: rc}
		r.Body = body
		defer func() { <-p.slots }()
		next.ServeHTTP(w, r)
	})
}

// isTransfer tells image data uploads (the Image API's and the
// dashboard's, which streams to the Image API).
func isTransfer(r *http.Request) bool {
	p := r.URL.Path
	return r.Method == http.MethodPut && (strings.HasPrefix(p, "/v2/images/") || strings.HasPrefix(p, "/dashboard/images/")) &&
		(strings.HasSuffix(p, "/file") || strings.HasSuffix(p, "/stage"))
}

// deadlineBody lifts the body deadline once the body is in, so a handler
// that runs longer is not cut off by the connection's background read.
// A body never read to its end keeps the deadline, which also bounds the
// server discarding it after the handler.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	once sync.Once
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(func() { _ = b.rc.SetReadDeadline(time.Time{}) })
	}
	return n, err
}
