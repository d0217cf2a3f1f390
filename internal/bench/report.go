package bench

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// resultSet finds results by server, workload and clients.
type resultSet []Result

func (rs resultSet) find(server, workload string, clients int) *Result {
	for i := range rs {
		r := &rs[i]
		if r.Server == server && r.Workload == workload && (clients == 0 || r.Clients == clients) {
			return r
		}
	}
	return nil
}

// reportOrder is the results as the tables list them: the machine's and
// the trivial server's first, then each server's in the order they ran.
// The servers are measured interleaved (the trivial show among them);
// the tables list them as if they were not.
func reportOrder(results []Result) resultSet {
	rank := func(r Result) int {
		switch r.Server {
		case "machine":
			return 0
		case "trivial":
			return 1
		}
		return 2
	}
	out := slices.Clone(results)
	slices.SortStableFunc(out, func(a, b Result) int { return cmp.Compare(rank(a), rank(b)) })
	return out
}

// medianOfRounds replaces the rounds of each request workload's result
// (server, workload, clients, and which of the workloads of that name:
// two share one) by one result of no round, in the place of the first:
// each figure the median of the rounds', the errors those of all rounds.
// Results of no round are left as they are.
func medianOfRounds(results []Result) []Result {
	type key struct {
		server, workload string
		clients, nth     int
	}
	nth := map[key]int{} // by round in key.nth: how many seen so far
	at := map[key]int{}  // where each workload's median goes in out
	groups := map[key][]Result{}
	var out []Result
	for _, r := range results {
		if r.Round == 0 {
			out = append(out, r)
			continue
		}
		k := key{r.Server, r.Workload, r.Clients, r.Round}
		g := key{r.Server, r.Workload, r.Clients, nth[k]}
		nth[k]++
		if _, ok := at[g]; !ok {
			at[g] = len(out)
			out = append(out, r)
		}
		groups[g] = append(groups[g], r)
	}
	for g, rs := range groups {
		out[at[g]] = median(rs)
	}
	return out
}

// median is one result of the rounds rs of one workload: every figure
// the median of theirs, every error counted.
func median(rs []Result) Result {
	m := Result{Server: rs[0].Server, Workload: rs[0].Workload, Clients: rs[0].Clients}
	of := func(f func(Result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		n := len(v)
		if n%2 == 1 {
			return v[n/2]
		}
		return (v[n/2-1] + v[n/2]) / 2
	}
	m.Requests = int(of(func(r Result) float64 { return float64(r.Requests) }))
	m.Seconds = of(func(r Result) float64 { return r.Seconds })
	m.ReqPerSec = of(func(r Result) float64 { return r.ReqPerSec })
	m.P50ms = of(func(r Result) float64 { return r.P50ms })
	m.P95ms = of(func(r Result) float64 { return r.P95ms })
	m.P99ms = of(func(r Result) float64 { return r.P99ms })
	m.CPUms = of(func(r Result) float64 { return r.CPUms })
	for _, r := range rs {
		for k, v := range r.Errors {
			if m.Errors == nil {
				m.Errors = map[string]int{}
			}
			m.Errors[k] += v
		}
	}
	return m
}

// subject is the server the report is about: glint, or the endpoint
// given; reference is Glance when it ran.
func (rs resultSet) servers() (subject, reference string) {
	for _, r := range rs {
		switch r.Server {
		case "glance":
			reference = "glance"
		case "machine", "trivial":
		default:
			if subject == "" {
				subject = r.Server
			}
		}
	}
	return subject, reference
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f×", a/b)
}

func errText(r *Result) string {
	if r == nil || len(r.Errors) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%s", r.Errors[k], k))
	}
	return strings.Join(parts, " ")
}

func num(format string, v float64) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprintf(format, v)
}

// writeMarkdown prints the side-by-side tables and the targets.
func writeMarkdown(w io.Writer, results []Result, opts Options) {
	rs := reportOrder(medianOfRounds(results))
	sub, ref := rs.servers()
	both := ref != ""

	fmt.Fprintf(w, "### Requests (catalog of %d images, %s per run", opts.Catalog, opts.Duration)
	if opts.Rounds > 1 {
		fmt.Fprintf(w, ", median of %d rounds", opts.Rounds)
	}
	fmt.Fprint(w, ")\n\n")
	if both {
		fmt.Fprintf(w, "| workload | clients | %[1]s req/s | %[2]s req/s | ratio | %[1]s p50/p99 ms | %[2]s p50/p99 ms | %[1]s CPU ms/req | %[2]s CPU ms/req | CPU ratio | %[1]s errors | %[2]s errors |\n", sub, ref)
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
	} else {
		fmt.Fprintf(w, "| workload | clients | req/s | p50 ms | p95 ms | p99 ms | CPU ms/req | errors |\n")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---|")
	}
	for _, r := range rs {
		if (r.Server != sub && r.Server != "trivial") || r.ReqPerSec == 0 {
			continue
		}
		name := r.Workload
		if r.Server == "trivial" {
			name = "trivial Go server " + r.Workload
		}
		if !both {
			fmt.Fprintf(w, "| %s | %d | %.0f | %.2f | %.2f | %.2f | %s | %s |\n", name, r.Clients,
				r.ReqPerSec, r.P50ms, r.P95ms, r.P99ms, num("%.3f", r.CPUms), errText(&r))
			continue
		}
		g := &Result{}
		if f := rs.find(ref, r.Workload, r.Clients); f != nil && r.Server == sub {
			g = f
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %.2f/%.2f | %s | %s | %s | %s | %s | %s |\n", name, r.Clients,
			r.ReqPerSec, num("%.1f", g.ReqPerSec), ratio(r.ReqPerSec, g.ReqPerSec),
			r.P50ms, r.P99ms, pair(g.P50ms, g.P99ms), num("%.3f", r.CPUms), num("%.2f", g.CPUms),
			ratio(g.CPUms, r.CPUms), errText(&r), errText(g))
	}

	fmt.Fprintf(w, "\n### Transfers\n\n")
	fmt.Fprintf(w, "| transfer | streams | size MiB | %s MiB/s | %s CPU-s/GiB |", sub, sub)
	if both {
		fmt.Fprintf(w, " %s MiB/s | %s CPU-s/GiB | ratio |", ref, ref)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, "|---|---:|---:|---:|---:|")
	if both {
		fmt.Fprint(w, "---:|---:|---:|")
	}
	fmt.Fprintln(w)
	for _, r := range rs {
		if r.Bytes == 0 || (r.Server != sub && r.Server != "trivial") {
			continue
		}
		name := r.Workload
		if r.Server == "trivial" {
			name = "trivial Go server " + r.Workload
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %.2f |", name, r.Clients, mib(r.Bytes), r.MiBPerSec, r.CPUPerGiB)
		if both {
			if g := rs.find(ref, r.Workload, r.Clients); g != nil && r.Server == sub {
				fmt.Fprintf(w, " %.0f | %.2f | %s |", g.MiBPerSec, g.CPUPerGiB, ratio(r.MiBPerSec, g.MiBPerSec))
			} else {
				fmt.Fprint(w, " | | |")
			}
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "\n### Other figures\n\n| figure | %s |", sub)
	if both {
		fmt.Fprintf(w, " %s |", ref)
	}
	fmt.Fprint(w, "\n|---|---:|")
	if both {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	other := []struct {
		label, workload string
		value           func(*Result) string
	}{
		{"first answer after start", "startup", func(r *Result) string { return fmt.Sprintf("%.0f ms", r.Seconds*1000) }},
		{"resident memory, idle", "rss-idle", func(r *Result) string { return fmt.Sprintf("%.1f MiB", r.RSSMiB) }},
		{"resident memory, peak while transferring", "rss-transfer", func(r *Result) string { return fmt.Sprintf("%.1f MiB", r.RSSMiB) }},
		{"walk of the catalog at limit=1000", "walk", func(r *Result) string { return fmt.Sprintf("%.3f s", r.Seconds) }},
		{"seeding the catalog (8 clients)", "seed", func(r *Result) string { return fmt.Sprintf("%.0f images/s", r.ReqPerSec) }},
		{"md5 alone (this machine, Go)", "md5", nil},
		{"sha512 alone (this machine, Go)", "sha512", nil},
	}
	for _, o := range other {
		if o.value == nil {
			if r := rs.find("machine", o.workload, 0); r != nil {
				fmt.Fprintf(w, "| %s | %.2f CPU-s/GiB (%.0f MiB/s) |", o.label, r.CPUPerGiB, r.MiBPerSec)
				if both {
					fmt.Fprint(w, " |")
				}
				fmt.Fprintln(w)
			}
			continue
		}
		r := rs.find(sub, o.workload, 0)
		g := rs.find(ref, o.workload, 0)
		if r == nil && g == nil {
			continue
		}
		fmt.Fprintf(w, "| %s | %s |", o.label, valueOr(r, o.value))
		if both {
			fmt.Fprintf(w, " %s |", valueOr(g, o.value))
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "\n### Targets\n\n| target | measured | goal | |\n|---|---|---|---|\n")
	for _, c := range evaluate(rs, sub, ref) {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", c.name, c.measured, c.goal, c.verdict)
	}
}

func pair(a, b float64) string {
	if a == 0 && b == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f/%.2f", a, b)
}

func valueOr(r *Result, f func(*Result) string) string {
	if r == nil {
		return ""
	}
	return f(r)
}
