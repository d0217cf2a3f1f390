package bench

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"
)

// op is one request of a workload. It returns the HTTP status it got (0
// when no answer came) and an error when that was not what it wanted.
type op func(ctx context.Context, rng *rand.Rand) (status int, err error)

// load is the outcome of running one op from several clients at once.
type load struct {
	requests  int
	latencies []time.Duration // one per request, sorted
	errors    map[string]int  // by status ("500", "conn" for no answer)
	firstErr  error
}

// runLoad calls fn from clients goroutines, each in a loop, until
// duration has passed (or ctx ends), and collects the latency of every
// call. Requests in flight at the deadline are let finish: cutting them
// off would count neither their time nor their work.
func runLoad(ctx context.Context, clients int, duration time.Duration, fn op) load {
	deadline := time.Now().Add(duration)
	type part struct {
		lat      []time.Duration
		errs     map[string]int
		firstErr error
	}
	parts := make([]part, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &parts[i]
			p.errs = map[string]int{}
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				status, err := fn(ctx, rng)
				p.lat = append(p.lat, time.Since(t0))
				if err != nil {
					key := "conn"
					if status != 0 {
						key = strconv.Itoa(status)
					}
					p.errs[key]++
					if p.firstErr == nil {
						p.firstErr = err
					}
				}
			}
		}()
	}
	wg.Wait()
	var l load
	l.errors = map[string]int{}
	for _, p := range parts {
		l.latencies = append(l.latencies, p.lat...)
		for k, v := range p.errs {
			l.errors[k] += v
		}
		if l.firstErr == nil {
			l.firstErr = p.firstErr
		}
	}
	l.requests = len(l.latencies)
	slices.Sort(l.latencies)
	return l
}

// percentile returns the q-th quantile (0 < q ≤ 1) of sorted latencies.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// parallel runs fn(i) for i in [0, n) on at most width goroutines and
// returns the first error.
func parallel(parent context.Context, n, width int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	next := make(chan int)
	errs := make(chan error, width)
	var wg sync.WaitGroup
	for range width {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return parent.Err()
}
