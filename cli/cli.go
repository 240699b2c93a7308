package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/plugins"
)

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

const usage = `usage: openimbot <command> [flags]

commands:
  run -config FILE          run the bot the file defines; with no OpenIM server
                            configured, start the embedded sandbox and a console
  check -config FILE        validate the configuration and rules, print the
                            routing table with overlaps and shadowed routes
  sandbox [flags]           run the OpenIM-compatible sandbox alone
  db stats|dump -db FILE    show a bot database's counts, or dump it as JSON lines
  chat [-to BOT] [-as USER] chat with a bot as a user, through a sandbox or, with
                            the admin secret, a real OpenIM server
  version                   print the version

Run "openimbot <command> -h" for a command's flags.
`

// cli is one invocation: its streams and, for run and sandbox, the signals
// it reacts to.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// signals delivers SIGINT/SIGTERM (stop) and SIGHUP (reload); nil means
	// none arrive.
	signals <-chan os.Signal
	// onReload, if set, is called after each reload attempt (tests).
	onReload func(error)
	// onReady, if set, is called once the bot is connected and synced (tests).
	onReady func()
	// extra are the plugins given to Main besides the built-in ones.
	extra []plugins.Plugin
}

// Main runs the openimbot command line with args (without the program
// name) on the process's standard streams and signals, and returns the
// exit code: 0 success, 1 runtime error, 2 usage or configuration error.
// extra plugins are offered next to the built-in ones: a configuration
// enables them by name in its plugins section, and their sections are
// checked and reloaded like the built-in ones. A custom openimbot is
//
//	func main() { os.Exit(cli.Main(os.Args[1:], myplugin.New())) }
func Main(args []string, extra ...plugins.Plugin) int {
	return run(args, os.Stdin, os.Stdout, os.Stderr, extra...)
}

// run is Main with its streams given: tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, extra ...plugins.Plugin) int {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, signals: sigs, extra: extra}
	return c.main(args)
}

func (c *cli) main(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return c.runCmd(args[1:])
	case "check":
		return c.checkCmd(args[1:])
	case "sandbox":
		return c.sandboxCmd(args[1:])
	case "db":
		return c.dbCmd(args[1:])
	case "chat":
		return c.chatCmd(args[1:])
	case "version", "-version", "--version":
		fmt.Fprintln(c.stdout, version())
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	fmt.Fprintf(c.stderr, "openimbot: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// flags returns a FlagSet that reports to stderr.
func (c *cli) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("openimbot "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: openimbot %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; ok false means: exit with code.
func parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return exitUsage, false
	}
	return 0, true
}

// loadConfig loads the file a command's -config flag names; ok false
// (the error printed, and the usage when the flag is missing) means: exit
// with exitUsage.
func (c *cli) loadConfig(cmd string, fs *flag.FlagSet, path string) (cfg *config.Config, ok bool) {
	if path == "" {
		c.errorf("%s: -config FILE is required", cmd)
		fs.Usage()
		return nil, false
	}
	cfg, err := config.Load(path)
	if err != nil {
		c.errorf("%v", err)
		return nil, false
	}
	return cfg, true
}

// errorf prints an error line to stderr.
func (c *cli) errorf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "openimbot: "+format+"\n", args...)
}

// newLogger returns a logger writing to w in format (text or json) at level.
// Token and secret attributes are redacted wherever they come from.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redact}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// redact hides attributes whose key names a credential.
func redact(_ []string, a slog.Attr) slog.Attr {
	k := strings.ToLower(a.Key)
	if strings.Contains(k, "token") || strings.Contains(k, "secret") || strings.Contains(k, "password") {
		return slog.String(a.Key, "[redacted]")
	}
	return a
}

// logFlags adds -log-level and -log-format, which override the file.
type logFlags struct{ level, format string }

func (l *logFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "", "log level: debug, info, warn or error (overrides log.level)")
	fs.StringVar(&l.format, "log-format", "", "log format: text or json (overrides log.format)")
}

// addNoFile is add for a command that reads no configuration file.
func (l *logFlags) addNoFile(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
}

// logger builds the logger from the file's log section and the flags.
func (l *logFlags) logger(w io.Writer, file config.Log) (*slog.Logger, error) {
	if l.level != "" {
		file.Level = l.level
	}
	if l.format != "" {
		file.Format = l.format
	}
	level, ok := config.ParseLevel(file.Level)
	if !ok {
		return nil, fmt.Errorf("-log-level: want debug, info, warn or error, got %q", file.Level)
	}
	if file.Format != "text" && file.Format != "json" && file.Format != "" {
		return nil, fmt.Errorf("-log-format: want text or json, got %q", file.Format)
	}
	return newLogger(w, file.Format, level), nil
}
