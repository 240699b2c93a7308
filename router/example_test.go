package router_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/router"
)

func msg(text string) *bot.Context {
	m := &content.Message{SendID: "alice", GroupID: "g1", SessionType: content.GroupChat,
		ContentType: content.TypeText, Elem: &content.Text{Content: text}}
	return bot.NewContext(context.Background(), m, "bot")
}

func Example() {
	r := router.New(router.WithCommandPrefixes("/", "!"))

	// Log every routed message (the outermost middleware).
	r.Use(func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(c *bot.Context) error {
			fmt.Printf("> %s\n", c.Text())
			return next.Handle(c)
		})
	})

	r.OnFunc(router.Command("weather {city} {days:int?} --units=|-u"), func(c *bot.Context) error {
		units, ok := router.OptionValue(c, "units")
		if !ok {
			units = "metric"
		}
		fmt.Printf("weather in %s for %d days (%s)\n", c.Param("city"), max(router.Int(c, "days"), 1), units)
		return nil
	}, router.Name("weather"))

	r.OnFunc(router.Command("say {text...}", router.Aliases("echo")), func(c *bot.Context) error {
		fmt.Printf("say %q\n", c.Param("text"))
		return nil
	}, router.Name("say"))

	r.OnFunc(router.KeywordFold("lunch", "dinner"), func(c *bot.Context) error {
		fmt.Println("food mentioned")
		return router.Continue // let lower routes run too
	}, router.Name("food"))

	r.OnFunc(router.Regex(`(?i)\border\s+#?(?P<id>\d+)`), func(c *bot.Context) error {
		fmt.Printf("order %s\n", c.Param("id"))
		return nil
	}, router.Name("order"))

	r.OnFunc(router.Expr(`IsGroup && Text startsWith "?" && hour() >= 0`), func(c *bot.Context) error {
		fmt.Println("a question in a group")
		return nil
	}, router.Name("question"))

	r.NotFound(bot.HandlerFunc(func(c *bot.Context) error {
		fmt.Println("no route")
		return nil
	}))
	if err := r.Build(); err != nil {
		fmt.Println(err)
		return
	}

	for _, ri := range r.Routes() {
		fmt.Printf("%d %-8s %-5d %s\n", ri.Rank, ri.Name, ri.Specificity, strings.Join(ri.Index, " | "))
	}
	for _, text := range []string{
		"/weather Oslo 3",
		"!weather 'New York' -u imperial",
		"/echo  hello   world",
		"Lunch? Order #42 is here",
		"? anyone",
		"/weather",
	} {
		if err := r.Handle(msg(text)); err != nil {
			fmt.Println("error:", err)
		}
	}
	// Output:
	// 0 weather  4027  command "/weather" | command "!weather"
	// 1 say      4013  command "/say" | command "/echo" | command "!say" | command "!echo"
	// 2 food     2005  keyword (fold) "lunch" | keyword (fold) "dinner"
	// 3 order    1005  keyword (fold) "order"
	// 4 question 600   prefix "?"
	// > /weather Oslo 3
	// weather in Oslo for 3 days (metric)
	// > !weather 'New York' -u imperial
	// weather in New York for 1 days (imperial)
	// > /echo  hello   world
	// say "hello   world"
	// > Lunch? Order #42 is here
	// food mentioned
	// order 42
	// > ? anyone
	// a question in a group
	// > /weather
	// no route
}

func ExampleRouter_Trace() {
	r := router.New()
	nop := func(*bot.Context) error { return nil }
	r.OnFunc(router.Command("ban {user}"), nop, router.Name("ban"))
	r.OnFunc(router.Prefix("/b"), nop, router.Name("b-prefix"))
	r.OnFunc(router.Keyword("hello"), nop, router.Name("hello"))

	tr := r.Trace(msg("/ban"))
	for _, s := range tr.Steps {
		fmt.Printf("%s via %s: %s\n", s.Route.Name, s.Via, strings.TrimSpace(s.Result+" "+s.Why))
	}
	fmt.Printf("%d of %d routes tested\n", tr.Candidates, tr.Routes)
	// Output:
	// ban via command "/ban": no match command ban: missing {user}
	// b-prefix via prefix "/b": runs and blocks
	// 2 of 3 routes tested
}

func ExampleRouter_Analyze() {
	r := router.New()
	nop := func(*bot.Context) error { return nil }
	r.OnFunc(router.Prefix("/"), nop, router.Name("catch-all"), router.Priority(1))
	r.OnFunc(router.Command("help"), nop, router.Name("help"),
		router.At(router.Location{File: "rules.yaml", Line: 12, Column: 5}))
	for _, f := range r.Analyze() {
		fmt.Println(f.Kind, f.Route.Name, "by", f.Other.Name, "at", f.Route.Source)
	}
	// Output:
	// shadowed help by catch-all at rules.yaml:12:5
}
