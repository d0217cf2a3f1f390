package rbd

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Location names one snapshot of one RBD image of one cluster, as the
// URLs Glance writes and Nova and Cinder read: rbd://fsid/pool/image/snap.
type Location struct {
	FSID, Pool, Image, Snapshot string
}

// String is the rbd:// URL, each part percent-quoted as Glance quotes it.
func (l Location) String() string {
	q := url.PathEscape
	return "rbd://" + q(l.FSID) + "/" + q(l.Pool) + "/" + q(l.Image) + "/" + q(l.Snapshot)
}

// ParseURL reads an rbd:// URL of four parts. Glance also accepts a bare
// rbd://image from its first releases; such a URL names no cluster or
// pool, so glint refuses it rather than guess.
func ParseURL(s string) (Location, error) {
	rest, ok := strings.CutPrefix(s, "rbd://")
	if !ok {
		return Location{}, errors.New("not an rbd:// URL")
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 4 {
		return Location{}, fmt.Errorf("an rbd URL must have 4 parts (rbd://fsid/pool/image/snapshot), this one has %d", len(parts))
	}
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil || u == "" {
			return Location{}, errors.New("an rbd URL cannot have empty or badly quoted parts")
		}
		parts[i] = u
	}
	return Location{FSID: parts[0], Pool: parts[1], Image: parts[2], Snapshot: parts[3]}, nil
}

// KeyOf is the blob key an image name holds, the inverse of imageName;
// ok is false for names no key maps to (a writer's temporary image).
func KeyOf(name string) (key string, ok bool) {
	if strings.Contains(name, tempMark) {
		return "", false
	}
	return strings.ReplaceAll(name, "~", "/"), true
}

// tempMark separates a key's image name from the random suffix of the
// temporary image a writer fills ('+' is in no key and no imageName).
const tempMark = "+"
