package image

import (
	"crypto"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
	"sync"
)

// HashAlgo is the multihash algorithm recorded in os_hash_algo.
const HashAlgo = "sha512"

// chunkSize is how much of an upload is read, hashed and written at once.
// Memory per upload is two such buffers, whatever the image size.
const chunkSize = 1 << 20

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// digester computes md5 (Glance's checksum) and sha512 (os_hash_value) of
// a stream, and any extra hash (a signature's), each on a goroutine of its
// own, so one upload can use several cores: each hash alone runs at about
// the speed of the disk, all in series at a fraction of that.
type digester struct {
	hashes []hash.Hash
	kinds  []crypto.Hash // hashes[i] is a kinds[i]: MD5, SHA512, then the extra ones
	in     []chan []byte
	done   chan struct{}
}

func newDigester(extra ...crypto.Hash) *digester {
	d := &digester{hashes: []hash.Hash{md5.New(), sha512.New()}, kinds: append([]crypto.Hash{crypto.MD5, crypto.SHA512}, extra...)}
	for _, k := range extra {
		d.hashes = append(d.hashes, k.New())
	}
	d.done = make(chan struct{}, len(d.hashes))
	d.in = make([]chan []byte, len(d.hashes))
	for i := range d.hashes {
		d.in[i] = make(chan []byte)
		go func(h hash.Hash, in <-chan []byte) {
			for p := range in {
				h.Write(p)
				d.done <- struct{}{}
			}
		}(d.hashes[i], d.in[i])
	}
	return d
}

// start hands p to every hasher; p must stay untouched until wait returns.
func (d *digester) start(p []byte) {
	for _, in := range d.in {
		in <- p
	}
}

func (d *digester) wait() {
	for range d.in {
		<-d.done
	}
}

// close stops the goroutines. The sums stay readable.
func (d *digester) close() {
	for _, in := range d.in {
		close(in)
	}
}

func (d *digester) md5Hex() string    { return hex.EncodeToString(d.hashes[0].Sum(nil)) }
func (d *digester) sha512Hex() string { return hex.EncodeToString(d.hashes[1].Sum(nil)) }

// sum is the digest of kind, nil when d does not compute it.
func (d *digester) sum(kind crypto.Hash) []byte {
	for i, k := range d.kinds {
		if k == kind {
			return d.hashes[i].Sum(nil)
		}
	}
	return nil
}

// copyHashed copies src to dst, at most limit bytes, feeding every chunk to
// d while dst writes it. It returns the number of bytes copied, and
// tooBig, without writing the excess, when src holds more than limit.
// Only io.EOF ends the stream normally: a body cut short (a client gone,
// a chunked body truncated) comes back as an error, never as success.
//
// Reading runs one chunk ahead, on a goroutine of its own: while the two
// hashes and the write work on chunk k, chunk k+1 arrives from the
// network, so the slowest of the three sets the pace rather than their
// sum with the read.
func copyHashed(dst io.Writer, src io.Reader, d *digester, limit int64, tooBig error) (int64, error) {
	ahead := startReadAhead(src)
	var c chunk
	defer func() { ahead.stop(c) }()
	var total int64
	for {
		c = ahead.next()
		if c.n > 0 {
			if total+int64(c.n) > limit {
				return total, tooBig
			}
			d.start(c.buf[:c.n])
			_, werr := dst.Write(c.buf[:c.n])
			d.wait()
			if werr != nil {
				return total, werr
			}
			total += int64(c.n)
		}
		if c.err == io.EOF {
			return total, nil
		}
		if c.err != nil {
			return total, &bodyError{c.err}
		}
		ahead.release(c)
	}
}

// readAhead fills chunks from src on its own goroutine, two in flight:
// one being read while the caller works on the other.
type readAhead struct {
	full chan chunk
	free chan *[]byte
	quit chan struct{}
	done chan struct{}
}

type chunk struct {
	bufp *[]byte
	buf  []byte
	n    int
	err  error
}

func startReadAhead(src io.Reader) *readAhead {
	r := &readAhead{full: make(chan chunk, 1), free: make(chan *[]byte, 2),
		quit: make(chan struct{}), done: make(chan struct{})}
	for range 2 {
		r.free <- chunkPool.Get().(*[]byte)
	}
	go func() {
		defer close(r.done)
		for {
			var bufp *[]byte
			select {
			case bufp = <-r.free:
			case <-r.quit:
				return
			}
			n, err := fill(src, *bufp)
			select {
			case r.full <- chunk{bufp: bufp, buf: *bufp, n: n, err: err}:
			case <-r.quit:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

func (r *readAhead) next() chunk { return <-r.full }

// release hands a chunk's buffer back for the next read.
func (r *readAhead) release(c chunk) { r.free <- c.bufp }

// stop ends the reader; last is the chunk the caller holds. Buffers go
// back to the pool only when the reader is known to be done with them: it
// is once it has delivered an end (EOF or an error), but one still blocked
// in a read of a stalled body (until the connection's read deadline)
// keeps its buffers, and the garbage collector takes them.
func (r *readAhead) stop(last chunk) {
	close(r.quit)
	if last.err != nil {
		<-r.done // it returns right after sending its last chunk
	}
	select {
	case <-r.done:
	default:
		return
	}
	if last.bufp != nil {
		chunkPool.Put(last.bufp)
	}
	for {
		select {
		case bufp := <-r.free:
			chunkPool.Put(bufp)
		case c := <-r.full:
			chunkPool.Put(c.bufp)
		default:
			return
		}
	}
}

// bodyError marks a failure to read the upload body (the client's side),
// as opposed to one writing the data (the store's side).
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading the upload: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// fill reads until buf is full or src fails; unlike io.ReadFull it passes
// io.EOF through unchanged so the caller can tell an end from a cut.
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

var errTooBig = newError(ErrTooLarge, "The provided image is too large.")
