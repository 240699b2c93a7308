package cli

import (
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/plugins/autoreply"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/schedule"
)

func (c *cli) checkCmd(args []string) int {
	fs := c.flags("check", "-config FILE [-trace TEXT [-sender ID] [-group ID] [-mention IDS]]")
	path := fs.String("config", "", "the configuration file (required)")
	tf := addTraceFlags(fs) // trace.go
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, ok := c.loadConfig("check", fs, *path)
	if !ok {
		return exitUsage
	}
	r, err := c.buildRouter(cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	jobs, err := schedule.FromConfig(cfg.Schedules)
	if err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	printCheck(c, cfg, r)
	printSchedules(c.stdout, cfg, jobs, time.Now()) // schedules.go
	if !printTrace(c, cfg, r, tf) {
		return exitUsage
	}
	return exitOK
}

// printCheck prints the configuration summary, the routing table in
// precedence order and the analysis findings.
func printCheck(c *cli, cfg *config.Config, r *router.Router) {
	o := cfg.OpenIM
	target := "embedded sandbox (console user " + cfg.Console.User + ")"
	if !o.Embedded() {
		cred := "token"
		if o.Token == "" {
			cred = "token from the admin secret via " + config.URL(o.APIAddr, "http")
		}
		target = config.URL(o.WSAddr, "ws") + " (" + cred + ")"
	}
	fmt.Fprintf(c.stdout, "%s: ok\n", cfg.File)
	fmt.Fprintf(c.stdout, "bot %s, platform %d, %s\n", o.UserID, o.PlatformID, target)
	var names []string
	for _, p := range enabled(cfg) {
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		names = append(names, "(none)")
	}
	fmt.Fprintf(c.stdout, "plugins: %s\n", strings.Join(names, ", "))
	routes := r.Routes()
	fmt.Fprintf(c.stdout, "\nrouting table (%d routes, in precedence order):\n", len(routes))
	tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tPRIORITY\tSOURCE\tNAME\tMATCHER\tFLOW")
	for _, ri := range routes {
		flow := "stop"
		if !ri.Blocking {
			flow = "continue"
		}
		fmt.Fprintf(tw, "  %d\t%d\t%s\t%s\t%s\t%s\n", ri.Rank+1, ri.Priority, source(ri), ri.Name, ri.Matcher, flow)
	}
	tw.Flush()
	findings := r.Analyze()
	if len(findings) == 0 {
		fmt.Fprintln(c.stdout, "\nno overlaps or shadowed routes")
	} else {
		fmt.Fprintf(c.stdout, "\nfindings (%d):\n", len(findings))
		for _, f := range findings {
			// The message names the route with its source, which starts the
			// line already.
			msg := strings.Replace(f.Msg, " at "+f.Route.Source.String(), "", 1)
			fmt.Fprintf(c.stdout, "  %s: %s: %s\n", f.Route.Source, f.Kind, msg)
		}
	}
	if notes := markdownNotes(cfg); len(notes) > 0 {
		fmt.Fprintf(c.stdout, "\nnotes (%d):\n", len(notes))
		for _, n := range notes {
			fmt.Fprintf(c.stdout, "  %s\n", n)
		}
	}
}

// markdownNotes warns about rules that reply in markdown (content type 118):
// clients built on the OpenIM v3.8 SDKs do not know that type and show
// nothing, unless the autoreply plugin sends markdown as text.
func markdownNotes(cfg *config.Config) []string {
	if pc, ok := cfg.Plugins.Lookup(autoreply.Name); ok && autoreply.MarkdownAsText(pc.Config) {
		return nil
	}
	var out []string
	for i := range cfg.Rules {
		r := &cfg.Rules[i]
		if r.Markdown != "" {
			out = append(out, fmt.Sprintf("%s: rule %q replies in markdown (content type 118), which clients on the OpenIM v3.8 SDKs do not show; plugins.autoreply.markdown_as_text: true sends it as text", r.PosOf("markdown"), r.Name))
		}
	}
	return out
}

// source shows a route's origin: the YAML position for rules and plugin
// sections, the Go position otherwise.
func source(ri router.RouteInfo) string {
	s := ri.Source.String()
	if s == "?" {
		return "(built in)"
	}
	return s
}
