package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/metadef"
	"github.com/glint-image/glint/internal/server"
)

// metadefsCommand loads and exports the metadata definitions catalog in
// Glance's file format (glance-manage db_load_metadefs and
// db_export_metadefs), working on the metadata store directly, for
// operators on the server's machine.
func metadefsCommand(stdout io.Writer) *cobra.Command {
	m := &cobra.Command{Use: "metadefs", Short: "Load and export metadata definitions (Glance's metadefs JSON files)"}

	var replace, merge bool
	owner := metadef.DefaultOwner
	load := metadefsSub("load PATH", "Load definition files: one file, or every *.json file of a directory",
		func(ctx context.Context, st metadef.Store, path string, stdout io.Writer) error {
			if replace && merge {
				return errors.New("--replace and --merge exclude each other")
			}
			mode := metadef.ImportCreate
			switch {
			case replace:
				mode = metadef.ImportReplace
			case merge:
				mode = metadef.ImportMerge
			}
			// Every file is read and checked before anything is written.
			files, err := metadef.ReadFiles(path, owner)
			if err != nil {
				return err
			}
			defs := make([]*metadef.Definition, len(files))
			for i, f := range files {
				defs[i] = f.Def
			}
			results, err := metadef.Load(ctx, st, defs, mode, time.Now())
			for i, r := range results {
				fmt.Fprintf(stdout, "%-8s %s (%s)\n", r, files[i].Def.Name, files[i].Path)
			}
			return err
		}, stdout)
	load.Long = `Load definition files in Glance's metadefs format. A namespace that
already exists is left alone, unless --merge (add what the file has, the
file winning where both have an entry) or --replace (make the namespace
exactly what the file says) is given. Each namespace is written in one
transaction; a file that does not parse or check stops the load before
anything is written.`
	load.Flags().BoolVar(&replace, "replace", false, "replace existing namespaces with the files' contents")
	load.Flags().BoolVar(&merge, "merge", false, "merge the files into existing namespaces")
	load.Flags().StringVar(&owner, "owner", owner, "owner of namespaces whose file names none")

	export := metadefsSub("export DIR", "Write every namespace to DIR, one file each",
		func(ctx context.Context, st metadef.Store, dir string, stdout io.Writer) error {
			defs, err := metadef.Export(ctx, st)
			if err != nil {
				return err
			}
			written, err := metadef.WriteFiles(dir, defs)
			for _, p := range written {
				fmt.Fprintln(stdout, "wrote", p)
			}
			return err
		}, stdout)
	m.AddCommand(load, export)
	return m
}

func metadefsSub(use, short string, run func(context.Context, metadef.Store, string, io.Writer) error, stdout io.Writer) *cobra.Command {
	return recordsCommand(use, short, cobra.ExactArgs(1), func(ctx context.Context, st server.Records, _ string, args []string) error {
		return run(ctx, st, args[0], stdout)
	})
}
