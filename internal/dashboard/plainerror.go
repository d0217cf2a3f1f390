package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The Image API speaks Glance's words, which clients match on; people
// need to know what happened and what to do. plainMessage turns the
// refusals a dashboard user meets into that, and leaves any other
// message as it is.

var (
	overQuotaRE = regexp.MustCompile(`Resource (\w+) is over limit of (\d+) due to current usage (\d+) and delta (\d+)`)
	mismatchRE  = regexp.MustCompile(`Image disk_format (\S+) does not match stream data (\S+)`)
)

func plainMessage(msg string) string {
	if m := overQuotaRE.FindStringSubmatch(msg); m != nil {
		limit, _ := strconv.ParseInt(m[2], 10, 64)
		usage, _ := strconv.ParseInt(m[3], 10, 64)
		return quotaMessage(m[1], limit, usage)
	}
	if m := mismatchRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("The file holds %s data, but the image's disk format is %s. Edit the image to set its disk format to %s (or choose the right file) and upload again.",
			label(m[2]), label(m[1]), label(m[2]))
	}
	if strings.Contains(msg, "failed safety checks") || strings.Contains(msg, "disallowed configuration") {
		if strings.Contains(msg, "backing file") || strings.Contains(msg, "data file") || strings.Contains(msg, "data-file") ||
			strings.Contains(msg, "parent image") || strings.Contains(msg, "createType") {
			return "Images whose data refers to other files (a backing file, an external data file or extents) are refused for safety, and nothing was stored. Make a self-contained image, for example with qemu-img convert, and upload that."
		}
		return "The image data failed the cloud's safety checks and was not stored (" + strings.TrimSpace(msg[strings.LastIndex(msg, ":")+1:]) + ")."
	}
	if strings.Contains(msg, "does not pass filtering") {
		return "This cloud does not fetch from that address: private, loopback and link-local addresses, and ports it does not allow, are refused. Give a public http or https URL, or upload the file from this computer."
	}
	return msg
}

func quotaMessage(name string, limit, usage int64) string {
	switch name {
	case "image_count_total":
		return fmt.Sprintf("This project may hold %d images and has %d: delete one or ask an admin to raise the quota.", limit, usage)
	case "image_size_total":
		return fmt.Sprintf("This project may store %d MiB of image data and stores %d MiB; this upload does not fit. Delete images or ask an admin to raise the quota.", limit, usage)
	case "image_stage_total":
		return fmt.Sprintf("This project may stage %d MiB of image data and has %d MiB staged; wait for imports to finish or ask an admin to raise the quota.", limit, usage)
	case "image_count_uploading":
		return fmt.Sprintf("This project may upload %d images at a time and is uploading %d; wait for one to finish or ask an admin to raise the quota.", limit, usage)
	}
	return fmt.Sprintf("This project is at its %s quota (%d of %d); ask an admin to raise it.", label(name), usage, limit)
}

// plainErrors passes an Image API answer to the browser, with the
// message of an error answer (small, JSON) put in people's words.
type plainErrors struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (p *plainErrors) WriteHeader(code int) {
	if code < 400 {
		p.ResponseWriter.WriteHeader(code)
		return
	}
	p.status = code
}

func (p *plainErrors) Write(b []byte) (int, error) {
	if p.status == 0 {
		return p.ResponseWriter.Write(b)
	}
	if p.buf.Len() < 64<<10 {
		p.buf.Write(b)
	}
	return len(b), nil
}

// Unwrap lets the API reach the connection (its read deadlines).
func (p *plainErrors) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// finish writes a held error answer.
func (p *plainErrors) finish() {
	if p.status == 0 {
		return
	}
	raw := errorMessage(p.buf.Bytes(), p.status)
	body, _ := json.Marshal(map[string]any{"message": plainMessage(raw), "detail": raw, "code": p.status})
	p.Header().Del("Content-Length")
	p.Header().Set("Content-Type", "application/json")
	p.ResponseWriter.WriteHeader(p.status)
	p.ResponseWriter.Write(body)
}
