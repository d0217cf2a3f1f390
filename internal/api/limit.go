package api

import (
	"math"
	"strings"
)

// parseLimit reads a limit parameter as Glance does, with Python's
// int(): spaces around it, a sign, and underscores between digits are
// allowed, and a number of any size is one (Glance then caps it at
// api_limit_max), so "99999999999999999999" pages like "1000" instead of
// failing. What int() refuses is 400 "limit param must be an integer".
// Python also takes non-ASCII decimal digits ("١٠"); glint does not.
// The sign is left for the caller, whose message differs by list.
func parseLimit(s string) (int, error) {
	bad := badRequest("limit param must be an integer")
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, bad
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_':
		case c >= '0' && c <= '9':
			d := int(c - '0')
			if n > (math.MaxInt-d)/10 {
				n = math.MaxInt // saturate: past any cap
			} else {
				n = n*10 + d
			}
		default:
			return 0, bad
		}
	}
	if neg {
		return -n, nil
	}
	return n, nil
}
