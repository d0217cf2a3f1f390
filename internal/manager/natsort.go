package manager

import (
	"slices"
	"strings"
)

// naturalCompare orders strings as Python's natsort does by default: runs
// of digits compare as numbers, everything else as text, chunk by chunk,
// so "1877.7" < "1877.10" and "20240416" < "latest". The OSISM tool uses
// it to find the newest version and to order cleanup candidates, so glint
// must agree with it exactly.
func naturalCompare(a, b string) int {
	ca, cb := naturalChunks(a), naturalChunks(b)
	for i := 0; i < len(ca) && i < len(cb); i++ {
		if c := compareChunk(ca[i], cb[i], i%2 == 1); c != 0 {
			return c
		}
	}
	return len(ca) - len(cb)
}

// naturalChunks splits s into alternating text and digit runs, always
// starting with a text run (empty when s starts with a digit), which is
// how natsort keeps text and numbers at the same tuple positions.
func naturalChunks(s string) []string {
	var chunks []string
	text := true
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isDigit(s[i]) != text {
			continue
		}
		if i == len(s) {
			chunks = append(chunks, s[start:])
			break
		}
		chunks = append(chunks, s[start:i])
		start = i
		text = !text
	}
	return chunks
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// compareChunk compares two chunks at the same position: numbers by
// value (leading zeros do not count, as with Python's int), text by bytes.
func compareChunk(a, b string, number bool) int {
	if !number {
		return strings.Compare(a, b)
	}
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// sortNatural sorts items by key in natural order, keeping the order of
// equal keys (natsort is a stable sort).
func sortNatural[T any](items []T, key func(T) string) {
	slices.SortStableFunc(items, func(x, y T) int { return naturalCompare(key(x), key(y)) })
}
