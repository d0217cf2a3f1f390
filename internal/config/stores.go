package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/glint-image/glint/internal/blob/s3/s3config"
)

var storeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

func (c Config) validateMetadata() []error {
	if n := c.Metadata.RecordCache; n < 0 || n > maxRecordCache {
		return []error{fmt.Errorf("metadata.record_cache: %d is not a number of image records from 0 (off) to %d", n, maxRecordCache)}
	}
	switch c.Metadata.Driver {
	case "sqlite":
		return nil
	case "postgres":
		if strings.TrimSpace(c.Metadata.DSN) == "" {
			return []error{errors.New("metadata.dsn: required with metadata.driver postgres (or metadata.dsn_file, GLINT_METADATA_DSN)")}
		}
		return nil
	}
	return []error{fmt.Errorf("metadata.driver: %q is not one of sqlite, postgres", c.Metadata.Driver)}
}

func (c Config) validateStores() []error {
	var errs []error
	if st := c.SingleStore; st != nil {
		if len(c.Stores) > 0 {
			errs = append(errs, errors.New("store: give either store (one store) or stores (several), not both"))
		}
		errs = append(errs, validateStore("store", *st)...)
		if st.Type == "http" {
			errs = append(errs, errors.New("store.type: an http store is read-only; it can only be one of several stores"))
		}
	}
	seen := map[string]bool{}
	for i, st := range c.Stores {
		where := fmt.Sprintf("stores[%d]", i)
		if !storeID.MatchString(st.ID) || strings.HasPrefix(st.ID, "os_glance") {
			errs = append(errs, fmt.Errorf("%s.id: %q must be 1-64 letters, digits, '-' or '_' and not start with os_glance", where, st.ID))
		}
		if seen[st.ID] {
			errs = append(errs, fmt.Errorf("%s.id: %q is used twice", where, st.ID))
		}
		seen[st.ID] = true
		errs = append(errs, validateStore(where, st)...)
	}
	switch {
	case len(c.Stores) == 0 && c.DefaultStore != "":
		errs = append(errs, fmt.Errorf("default_store: %q names a store, but no stores are configured", c.DefaultStore))
	case len(c.Stores) > 0 && !seen[c.DefaultStore]:
		errs = append(errs, fmt.Errorf("default_store: %q is not one of the configured stores", c.DefaultStore))
	}
	for _, st := range c.Stores {
		if st.Type == "http" && (st.ID == c.DefaultStore || st.ID == c.Import.StagingStore) {
			errs = append(errs, fmt.Errorf("stores: %s is an http store, read-only: it cannot be the default or the staging store", st.ID))
		}
	}
	return errs
}

func validateStore(where string, st Store) []error {
	switch st.Type {
	case "file":
		if strings.TrimSpace(st.Path) == "" {
			return []error{fmt.Errorf("%s.path: required for a file store", where)}
		}
		if st.Layout != "" && st.Layout != "glance" {
			return []error{fmt.Errorf("%s.layout: %q is not glance (or empty for glint's own)", where, st.Layout)}
		}
	case "s3":
		if st.Layout != "" {
			return []error{fmt.Errorf("%s.layout: only for a file store", where)}
		}
		// The store checks its own section; each problem is reported
		// under its key in the file.
		return keyed(where+".s3", st.S3.Validate())
	case "rbd":
		// The driver checks its own settings; whether this build has
		// it is checked when the store opens, with the build to use.
		// Its errors start with their key (rbd.pool: ...).
		var errs []error
		for _, e := range keyed(where, st.RBD.Validate()) {
			errs = append(errs, fmt.Errorf("%s.%w", where, e))
		}
		return errs
	case "http":
		if st.Path != "" || st.Layout != "" {
			return []error{fmt.Errorf("%s: path and layout are only for a file store", where)}
		}
		var errs []error
		for _, n := range st.HTTP.AllowedNetworks {
			if _, err := netip.ParsePrefix(n); err != nil {
				errs = append(errs, fmt.Errorf("%s.http.allowed_networks: %q is not a network such as 10.1.0.0/16", where, n))
			}
		}
		for _, p := range st.HTTP.AllowedPorts {
			if p < 1 || p > 65535 {
				errs = append(errs, fmt.Errorf("%s.http.allowed_ports: %d is not in 1..65535", where, p))
			}
		}
		return errs
	default:
		return []error{fmt.Errorf("%s.type: %q is not one of file, s3, rbd, http", where, st.Type)}
	}
	return nil
}

// keyed names each *s3config.FieldError in err by its key under where.
func keyed(where string, err error) []error {
	if err == nil {
		return nil
	}
	all := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		all = joined.Unwrap()
	}
	var errs []error
	for _, e := range all {
		if fe, ok := e.(*s3config.FieldError); ok {
			e = fmt.Errorf("%s.%s: %s", where, fe.Key, fe.Msg)
		}
		errs = append(errs, e)
	}
	return errs
}
