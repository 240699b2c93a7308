package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/openimbot/openimbot/storage"
)

func (c *cli) dbCmd(args []string) int {
	if len(args) == 0 || (args[0] != "stats" && args[0] != "dump") {
		c.errorf("db: want stats or dump\nusage: openimbot db stats|dump -db FILE")
		return exitUsage
	}
	sub := args[0]
	fs := c.flags("db "+sub, "-db FILE")
	path := fs.String("db", "", "the bot database file (required)")
	if code, ok := parse(fs, args[1:]); !ok {
		return code
	}
	if *path == "" {
		c.errorf("db %s: -db FILE is required", sub)
		fs.Usage()
		return exitUsage
	}
	db, err := storage.Open(*path, storage.Options{ReadOnly: true})
	if err != nil {
		c.errorf("%v", err)
		return exitRuntime
	}
	defer db.Close()
	if sub == "dump" {
		if err := db.Dump(c.stdout); err != nil {
			c.errorf("%v", err)
			return exitRuntime
		}
		return exitOK
	}
	st, err := db.Stats()
	if err != nil {
		c.errorf("%v", err)
		return exitRuntime
	}
	tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", st.Path)
	fmt.Fprintf(tw, "size\t%d bytes\n", st.FileSize)
	fmt.Fprintf(tw, "schema version\t%d\n", st.SchemaVersion)
	fmt.Fprintf(tw, "conversations\t%d\n", st.Conversations)
	fmt.Fprintf(tw, "dedup entries\t%d\n", st.DedupEntries)
	fmt.Fprintf(tw, "namespaces\t%d\n", len(st.Namespaces))
	for _, ns := range st.Namespaces {
		fmt.Fprintf(tw, "  %s\t%d keys\n", ns.Name, ns.Keys)
	}
	tw.Flush()
	return exitOK
}
