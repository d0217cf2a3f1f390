// Package accesslog records what an HTTP handler answered, for the access
// logs of the Image API and the identity API, and so that an error found
// after the first byte is not written into a body.
package accesslog

import (
	"io"
	"net/http"
)

// Recorder is a ResponseWriter that remembers the status and the bytes
// sent.
type Recorder struct {
	http.ResponseWriter
	Status int
	Bytes  int64
	// Wrote is set once the header is sent.
	Wrote bool
}

func (r *Recorder) WriteHeader(code int) {
	if !r.Wrote {
		r.Status, r.Wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *Recorder) Write(p []byte) (int, error) {
	if !r.Wrote {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(p)
	r.Bytes += int64(n)
	return n, err
}

// ReadFrom passes a body copy on to the ResponseWriter's own ReadFrom, so
// a file reaches the socket with sendfile instead of through buffers.
func (r *Recorder) ReadFrom(src io.Reader) (int64, error) {
	if !r.Wrote {
		r.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{r.ResponseWriter}, src)
	}
	r.Bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
