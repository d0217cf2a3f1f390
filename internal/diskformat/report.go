package diskformat

import (
	"slices"
	"strconv"
	"strings"
)

// Report is what an inspection found.
type Report struct {
	// Format is the detected format, Raw when no other matched.
	Format string
	// Variant refines Format where it matters: a VMDK's createType
	// ("monolithicSparse", ...), "fixed", "dynamic" or "differencing"
	// for VHD, "descriptor" for a VMDK text descriptor.
	Variant string
	// VirtualSize is the size of the disk the image holds, in bytes; 0
	// when the headers did not tell.
	VirtualSize int64
	// Size is the number of bytes inspected: the image's size once the
	// whole stream was written.
	Size int64
	// Matches lists every format whose signature was found, in priority
	// order. More than one (beyond an ISO with a partition table in
	// front) makes the image unsafe.
	Matches []string
	// Problems are the safety-check failures, worded for a person. An
	// image with any is unsafe whatever its declared format.
	Problems []string
	// Encrypted is set for a qcow2 image with encrypted data.
	Encrypted bool
}

// detection is one format's verdict on the image.
type detection struct {
	format, variant string
	virtual         int64
	problems        []string
	encrypted       bool
}

// detectors run in priority order: the formats qemu probes from the first
// bytes come first, then the ones found further in or at the end.
var detectors = []func(*Inspector) *detection{
	detectQCOW, detectQED, detectVMDK, detectVHD, detectVHDX, detectVDI,
	detectLUKS, detectPloop, detectBochs, detectCloop, detectISO, detectPartitioned,
	detectFixedVHD,
}

// Report returns what the bytes written so far show; call it once the
// whole image was written.
func (in *Inspector) Report() Report {
	r := Report{Format: Raw, Size: in.pos}
	var found []*detection
	for _, detect := range detectors {
		if d := detect(in); d != nil {
			found = append(found, d)
			r.Matches = append(r.Matches, d.format)
		}
	}
	if len(found) == 0 {
		r.VirtualSize = in.pos
		return r
	}
	d := found[0]
	if iso := isoWithPartitionTable(found); iso != nil {
		// Bootable ISOs (isohybrid) legitimately carry an MBR or GPT in
		// front of the volume descriptors; they are ISOs.
		d, found = iso, []*detection{iso}
	}
	r.Format, r.Variant, r.VirtualSize, r.Encrypted = d.format, d.variant, d.virtual, d.encrypted
	for _, f := range found {
		r.Problems = append(r.Problems, f.problems...)
	}
	if len(found) > 1 {
		// A file that two formats read differently is how an image
		// checked as one format gets opened as another.
		r.Problems = append(r.Problems, "the image is valid in more than one format ("+strings.Join(r.Matches, ", ")+")")
	}
	return r
}

func isoWithPartitionTable(found []*detection) *detection {
	if len(found) != 2 {
		return nil
	}
	var iso *detection
	table := false
	for _, d := range found {
		switch d.format {
		case ISO:
			iso = d
		case GPT, MBR:
			table = true
		}
	}
	if iso == nil || !table {
		return nil
	}
	return iso
}

// rawCompatible are the detections a hypervisor reading the image as raw
// sees exactly as intended: plain data, a partition table, an ISO, a LUKS
// volume (decrypted by its user, not by qemu's raw driver) or a fixed VHD
// (raw data followed by a footer).
func (r Report) rawCompatible() bool {
	switch r.Format {
	case Raw, GPT, MBR, ISO, LUKS:
		return true
	case VHD:
		return r.Variant == "fixed"
	}
	return false
}

// Policy is what an operator may tune about which images pass.
type Policy struct {
	// VMDKAllowedTypes are the createType values accepted for vmdk
	// (Glance's vmdk_allowed_types); nil means the default,
	// DefaultVMDKTypes. An empty non-nil list refuses every VMDK.
	VMDKAllowedTypes []string
	// AllowMismatch only logs a declared disk_format that does not match
	// the data instead of refusing it (Glance's
	// require_image_format_match = False). Safety checks still apply.
	AllowMismatch bool
}

// DefaultVMDKTypes are the single-file VMDK variants: the only ones whose
// data cannot live in other files.
var DefaultVMDKTypes = []string{"streamOptimized", "monolithicSparse"}

// Rejection explains why an image was refused.
type Rejection struct {
	// Safety is set when the image is unsafe (as opposed to mislabelled).
	Safety bool
	Reason string
}

func (e *Rejection) Error() string { return e.Reason }

// notInspectable are disk formats whose data glint cannot tell apart from
// raw: anything not recognised as a rich format passes as them.
var notInspectable = map[string]bool{"ami": true, "ari": true, "aki": true}

// Check decides whether an image with this report may be stored under the
// declared disk and container formats. It returns the virtual size to
// record (0 for none) or a *Rejection.
//
// With container_format bare, the data must be in the declared format:
// raw also accepts the raw-like detections (partition tables, ISO, LUKS,
// a fixed VHD), iso accepts an ISO with a partition table. Unlike
// Glance, a rich format declared as raw is refused: a qcow2 labelled raw
// is either a mistake or an attempt to get past a check that looks at the
// label. With any other container format the data is not a bare disk and
// only the safety checks apply.
func (r Report) Check(diskFormat, containerFormat string, pol Policy) (int64, error) {
	if len(r.Problems) > 0 {
		return 0, &Rejection{Safety: true, Reason: "Image failed safety checks: " + strings.Join(r.Problems, "; ")}
	}
	if r.Format == VMDK {
		allowed := pol.VMDKAllowedTypes
		if allowed == nil {
			allowed = DefaultVMDKTypes
		}
		if !slices.Contains(allowed, r.Variant) {
			return 0, &Rejection{Safety: true, Reason: "Image failed safety checks: VMDK createType " + strconv.Quote(r.Variant) +
				" is not allowed (allowed: " + strings.Join(allowed, ", ") + ")"}
		}
	}
	if containerFormat != "bare" {
		return 0, nil
	}
	switch {
	case r.Format == diskFormat:
		return r.VirtualSize, nil
	case diskFormat == Raw && r.rawCompatible():
		return r.Size, nil
	case notInspectable[diskFormat] && r.rawCompatible():
		return 0, nil
	case diskFormat == Ploop && r.Format == Raw:
		// A ploop disk is a directory with a descriptor; what is uploaded
		// is sometimes its raw image.
		return 0, nil
	}
	if pol.AllowMismatch {
		return 0, nil
	}
	return 0, &Rejection{Reason: "Image disk_format " + diskFormat + " does not match stream data " + r.Format}
}
