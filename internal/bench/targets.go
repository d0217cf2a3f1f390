package bench

import (
	"fmt"
	"strings"
)

// check is one target with its verdict.
type check struct {
	name, measured, goal, verdict string
}

func verdict(ok bool) string {
	if ok {
		return "pass"
	}
	return "**FAIL**"
}

// evaluate holds the results against glint's targets (issue 7): most are
// ratios to Glance measured in the same run, so they are "n/a" without
// Glance; a few are absolute.
func evaluate(rs resultSet, sub, ref string) []check {
	var out []check
	na := func(name, goal string) { out = append(out, check{name, "", goal, "n/a (needs --with-glance)"}) }

	// Throughput and CPU per request at 8 clients.
	for _, t := range []struct {
		workload string
		speedup  float64
	}{{"create", 25}, {"patch", 25}, {"list-sorted", 40}, {"list-tag", 40}, {"list-visibility", 40}, {"show", 15}, {"list-name", 0}} {
		r, g := rs.find(sub, t.workload, 8), rs.find(ref, t.workload, 8)
		if r == nil {
			continue
		}
		if g == nil || g.ReqPerSec == 0 {
			if t.speedup > 0 {
				na(fmt.Sprintf("%s throughput at 8 clients", t.workload), fmt.Sprintf("≥ %.0f× Glance", t.speedup))
			}
			na(fmt.Sprintf("%s server CPU per request", t.workload), "≤ 1/50 of Glance")
		} else {
			if t.speedup > 0 {
				x := r.ReqPerSec / g.ReqPerSec
				out = append(out, check{fmt.Sprintf("%s throughput at 8 clients", t.workload),
					fmt.Sprintf("%.0f vs %.1f req/s = %.1f×", r.ReqPerSec, g.ReqPerSec, x),
					fmt.Sprintf("≥ %.0f×", t.speedup), verdict(x >= t.speedup)})
			}
			if r.CPUms > 0 && g.CPUms > 0 {
				x := g.CPUms / r.CPUms
				out = append(out, check{fmt.Sprintf("%s server CPU per request", t.workload),
					fmt.Sprintf("%.3f vs %.2f ms = 1/%.0f", r.CPUms, g.CPUms, x), "≤ 1/50", verdict(x >= 50)})
			}
		}
		if t.workload == "show" {
			out = append(out, vsTrivialShow(r, rs.find("trivial", "show", 8))...)
		}
	}
	// Every list shape within 5× a show's CPU (issue 14), at 8 clients.
	if show := rs.find(sub, "show", 8); show != nil && show.CPUms > 0 {
		for _, r := range rs {
			if r.Server != sub || r.Clients != 8 || !strings.HasPrefix(r.Workload, "list-") ||
				r.Workload == "list-page-1000" || r.CPUms <= 0 {
				continue
			}
			x := r.CPUms / show.CPUms
			out = append(out, check{r.Workload + " CPU per request vs show",
				fmt.Sprintf("%.3f vs %.3f ms = %.1f×", r.CPUms, show.CPUms, x), "≤ 5×", verdict(x <= 5)})
		}
	}
	// No errors at 32 clients.
	for _, r := range rs {
		if r.Server == sub && r.Clients == 32 && r.ReqPerSec > 0 {
			out = append(out, check{fmt.Sprintf("%s errors at 32 clients", r.Workload), errText(&r), "0", verdict(len(r.Errors) == 0)})
		}
	}
	if r := rs.find(sub, "walk", 0); r != nil {
		// 0.15 s for 10,000 images (issue 14), in proportion for others.
		goal := 0.15 * float64(catalogSize(rs, sub)) / 10000
		out = append(out, check{"walk of the catalog at limit=1000", fmt.Sprintf("%.3f s", r.Seconds),
			fmt.Sprintf("≤ %.2f s", goal), verdict(r.Seconds <= goal)})
	}

	// Upload: faster than Glance, CPU close to the hashes' own cost.
	if r := rs.find(sub, "upload", 1); r != nil {
		if g := rs.find(ref, "upload", 1); g != nil {
			x := r.MiBPerSec / g.MiBPerSec
			out = append(out, check{"one-stream upload", fmt.Sprintf("%.0f vs %.0f MiB/s = %.1f×", r.MiBPerSec, g.MiBPerSec, x), "≥ 1.5× Glance", verdict(x >= 1.5)})
		} else {
			na("one-stream upload", "≥ 1.5× Glance")
		}
		m5, s512 := rs.find("machine", "md5", 0), rs.find("machine", "sha512", 0)
		if m5 != nil && s512 != nil && r.CPUPerGiB > 0 {
			hashes := m5.CPUPerGiB + s512.CPUPerGiB
			x := r.CPUPerGiB / hashes
			out = append(out, check{"upload server CPU per GiB", fmt.Sprintf("%.2f CPU-s vs md5+sha512 %.2f = %.2f×", r.CPUPerGiB, hashes, x), "≤ 1.4× the hashes", verdict(x <= 1.4)})
		}
	}
	// Download: line rate.
	if r := rs.find(sub, "download", 1); r != nil {
		if g := rs.find(ref, "download", 1); g != nil {
			x := r.MiBPerSec / g.MiBPerSec
			out = append(out, check{"one-stream download", fmt.Sprintf("%.0f vs %.0f MiB/s = %.2f×", r.MiBPerSec, g.MiBPerSec, x), "≥ 1× Glance", verdict(x >= 1)})
		} else {
			na("one-stream download", "≥ 1× Glance")
		}
		if tr := rs.find("trivial", "get", 0); tr != nil {
			x := r.MiBPerSec / tr.MiBPerSec
			out = append(out, check{"download vs trivial sendfile server", fmt.Sprintf("%.0f vs %.0f MiB/s = %.0f%%", r.MiBPerSec, tr.MiBPerSec, 100*x), "≥ 90%", verdict(x >= 0.9)})
			if tr.CPUPerGiB > 0 && r.CPUPerGiB > 0 {
				c := r.CPUPerGiB / tr.CPUPerGiB
				out = append(out, check{"download CPU per GiB vs trivial server", fmt.Sprintf("%.2f vs %.2f CPU-s = %.2f×", r.CPUPerGiB, tr.CPUPerGiB, c), "≤ 1.2×", verdict(c <= 1.2)})
			}
		}
	}
	for _, r := range rs {
		if r.Server != sub || r.Workload != "download" || r.Clients < 2 {
			continue
		}
		if g := rs.find(ref, "download", r.Clients); g != nil {
			x := r.MiBPerSec / g.MiBPerSec
			out = append(out, check{fmt.Sprintf("%d concurrent downloads", r.Clients), fmt.Sprintf("%.0f vs %.0f MiB/s = %.1f×", r.MiBPerSec, g.MiBPerSec, x), "≥ 1.5× Glance", verdict(x >= 1.5)})
		} else {
			na(fmt.Sprintf("%d concurrent downloads", r.Clients), "≥ 1.5× Glance")
		}
	}

	// Footprint.
	if r := rs.find(sub, "rss-idle", 0); r != nil {
		out = append(out, check{"resident memory, idle", fmt.Sprintf("%.1f MiB", r.RSSMiB), "≤ 40 MiB", verdict(r.RSSMiB <= 40)})
	}
	if r := rs.find(sub, "rss-transfer", 0); r != nil {
		out = append(out, check{"resident memory while transferring", fmt.Sprintf("%.1f MiB", r.RSSMiB), "≤ 80 MiB", verdict(r.RSSMiB <= 80)})
	}
	if r := rs.find(sub, "startup", 0); r != nil {
		out = append(out, check{"first answer after start", fmt.Sprintf("%.0f ms", r.Seconds*1000), "≤ 100 ms", verdict(r.Seconds <= 0.1)})
	}
	return out
}

// vsTrivialShow sets a show's CPU per request beside the trivial
// server's answer of the same record at the same client level: the part
// of a show that is the HTTP round trip on this machine. It is a floor to
// read the target by, not a target.
func vsTrivialShow(r, tr *Result) []check {
	if tr == nil || tr.CPUms <= 0 || r.CPUms <= 0 {
		return nil
	}
	return []check{{fmt.Sprintf("show CPU per request vs a trivial Go server's answer of the same record at %d clients", r.Clients),
		fmt.Sprintf("%.3f vs %.3f ms = %.1f×", r.CPUms, tr.CPUms, r.CPUms/tr.CPUms), "", "informational"}}
}

// catalogSize is the number of images the walk of sub saw (Result.Images),
// 10,000 when unknown.
func catalogSize(rs resultSet, sub string) int {
	if r := rs.find(sub, "walk", 0); r != nil && r.Images > 0 {
		return r.Images
	}
	return 10000
}
