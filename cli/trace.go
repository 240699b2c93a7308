package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/config"
	webconsole "github.com/openimbot/openimbot/console"
	"github.com/openimbot/openimbot/router"
)

// traceFlags are check's -trace options.
type traceFlags struct {
	text, sender, group, mention *string
}

func addTraceFlags(fs *flag.FlagSet) traceFlags {
	return traceFlags{
		text:    fs.String("trace", "", "route this text and print every route in order: matched or not, and why"),
		sender:  fs.String("sender", "", "with -trace: the sender's user ID (default: console.user)"),
		group:   fs.String("group", "", "with -trace: send in this group instead of a single chat with the bot"),
		mention: fs.String("mention", "", "with -trace: comma-separated user IDs the message @-mentions (in a group)"),
	}
}

// printTrace prints how the router routes the -trace text. It reports
// whether the flags were usable.
func printTrace(c *cli, cfg *config.Config, r *router.Router, tf traceFlags) bool {
	if *tf.text == "" {
		return true
	}
	sender := *tf.sender
	if sender == "" {
		sender = cfg.Console.User
	}
	var mentions []string
	for _, m := range strings.Split(*tf.mention, ",") {
		if m = strings.TrimSpace(m); m != "" {
			mentions = append(mentions, m)
		}
	}
	if len(mentions) > 0 && *tf.group == "" {
		c.errorf("check: -mention needs -group (mentions exist in groups only)")
		return false
	}
	botID := cfg.OpenIM.UserID
	m, err := webconsole.UserMessage(sender, botID, *tf.group, *tf.text, mentions)
	if err != nil {
		c.errorf("check: -trace: %v", err)
		return false
	}
	tr := r.TraceAll(bot.NewContext(context.Background(), m, botID))
	where := "in a single chat with " + botID
	if *tf.group != "" {
		where = "in group " + *tf.group
	}
	if len(mentions) > 0 {
		where += ", mentioning " + strings.Join(mentions, ", ")
	}
	fmt.Fprintf(c.stdout, "\ntrace of %q from %s %s (%d of %d routes selected by the index):\n", tr.Text, sender, where, tr.Candidates, tr.Routes)
	tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tROUTE\tMATCHED\tRESULT\tWHY / INDEX")
	ran := ""
	for _, s := range tr.Steps {
		matched := "no"
		if s.Matched {
			matched = "yes"
		}
		why := s.Via
		if s.Why != "" {
			why = s.Why + "; " + s.Via
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", s.Route.Rank+1, router.RouteName(s.Route), matched, s.Result, why)
		if s.Ran && ran == "" {
			ran = router.RouteName(s.Route)
		}
	}
	tw.Flush()
	switch {
	case ran != "":
		fmt.Fprintf(c.stdout, "route %s runs\n", ran)
	case tr.NotFound:
		fmt.Fprintln(c.stdout, "no route matches: the not-found handler runs")
	default:
		fmt.Fprintln(c.stdout, "no route matches")
	}
	return true
}
