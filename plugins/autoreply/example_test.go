package autoreply_test

import (
	"fmt"

	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/plugins/autoreply"
	"github.com/openimbot/openimbot/router"
)

// Rules kept outside the configuration file (a file of their own, a
// database, a string in a program) load with config.ParseRules, with
// positions in that source, and run on any router.
func ExampleNew() {
	rules, err := config.ParseRules("faq.yaml", []byte(`
- name: hours
  keyword: [open, hours]
  reply: "We are open 9 to 5."
- name: price
  command: /price {item}
  description: the price of an item
  reply: "{{.item}}: ask the shop."
`), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := router.New()
	if err := plugins.Setup(r, nil, config.Plugins{{Name: autoreply.Name}}, []plugins.Plugin{autoreply.New(rules)}, nil); err != nil {
		fmt.Println(err)
		return
	}
	for _, ri := range r.Routes() {
		fmt.Println(ri.Name, ri.Source, ri.Matcher)
	}
	// Output:
	// price faq.yaml:5:3 Command("price {item}")
	// hours faq.yaml:2:3 KeywordFold("open", "hours")
}
