package diskformat

import (
	"encoding/json"
	"errors"
	"slices"
)

// An inspector's state is kept with a resumable upload, so an upload
// continued later (in another process, even) is inspected as if it had
// streamed in one go, without reading back what was received.

// inspectorState is the JSON form of an Inspector. Windows are referred to
// by their index in Windows; -1 is none.
type inspectorState struct {
	Pos     int64         `json:"pos"`
	Head    []byte        `json:"head"`
	Tail    []byte        `json:"tail"`
	Windows []windowState `json:"windows,omitempty"`
	VMDK    struct {
		Asked   bool   `json:"asked,omitempty"`
		Desc    int    `json:"desc"`
		Problem string `json:"problem,omitempty"`
	} `json:"vmdk"`
	VHDX struct {
		Regions, Meta, Size, Params int
		Parent                      bool   `json:",omitempty"`
		Problem                     string `json:",omitempty"`
	} `json:"vhdx"`
}

type windowState struct {
	Off  int64  `json:"off"`
	Buf  []byte `json:"buf"`
	Have int    `json:"have"`
}

// MarshalBinary returns the inspector's state (at most the head, the
// windows asked for and the tail: a few MiB at worst).
func (in *Inspector) MarshalBinary() ([]byte, error) {
	var st inspectorState
	st.Pos, st.Head, st.Tail = in.pos, in.head, in.tail[:]
	for _, w := range in.windows {
		st.Windows = append(st.Windows, windowState{Off: w.off, Buf: w.buf, Have: w.have})
	}
	index := func(w *window) int { return slices.Index(in.windows, w) }
	st.VMDK.Asked, st.VMDK.Desc, st.VMDK.Problem = in.vmdk.asked, index(in.vmdk.desc), in.vmdk.problem
	st.VHDX.Regions, st.VHDX.Meta = index(in.vhdx.regions), index(in.vhdx.meta)
	st.VHDX.Size, st.VHDX.Params = index(in.vhdx.size), index(in.vhdx.params)
	st.VHDX.Parent, st.VHDX.Problem = in.vhdx.parent, in.vhdx.problem
	return json.Marshal(st)
}

// errState: a state that MarshalBinary cannot have written.
var errState = errors.New("diskformat: malformed inspector state")

// UnmarshalBinary restores a state MarshalBinary returned.
func (in *Inspector) UnmarshalBinary(data []byte) error {
	var st inspectorState
	if err := json.Unmarshal(data, &st); err != nil {
		return errState
	}
	if st.Pos < 0 || len(st.Head) > headSize || int64(len(st.Head)) > st.Pos || len(st.Tail) != tailSize {
		return errState
	}
	n := &Inspector{pos: st.Pos, head: append(make([]byte, 0, headSize), st.Head...)}
	copy(n.tail[:], st.Tail)
	for _, w := range st.Windows {
		if len(w.Buf) > maxWindow || w.Have < 0 || w.Have > len(w.Buf) || w.Off < 0 {
			return errState
		}
		n.windows = append(n.windows, &window{off: w.Off, buf: w.Buf, have: w.Have})
	}
	bad := false
	pick := func(i int) *window {
		if i < -1 || i >= len(n.windows) {
			bad = true
			return nil
		}
		if i == -1 {
			return nil
		}
		return n.windows[i]
	}
	n.vmdk = vmdkState{asked: st.VMDK.Asked, desc: pick(st.VMDK.Desc), problem: st.VMDK.Problem}
	n.vhdx = vhdxState{regions: pick(st.VHDX.Regions), meta: pick(st.VHDX.Meta), size: pick(st.VHDX.Size),
		params: pick(st.VHDX.Params), parent: st.VHDX.Parent, problem: st.VHDX.Problem}
	if bad {
		return errState
	}
	*in = *n
	return nil
}
