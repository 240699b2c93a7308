package dialog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/openimbot/openimbot/config"
)

// FuzzFlows compiles arbitrary plugin sections and runs every step's checks
// and templates on an arbitrary answer: none may panic. Seeds:
// testdata/*.yaml.
func FuzzFlows(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "large")
		f.Add(data, "3")
	}
	f.Add([]byte("flows: [{command: a, steps: [{key: k, ask: '{{.k}}', regex: '(a+)+$'}], reply: x}]"), "aaaa")
	f.Fuzz(func(t *testing.T, data []byte, answer string) {
		n, err := config.ParseNode("fuzz.yaml", data, func(string) (string, bool) { return "", false })
		if err != nil {
			return
		}
		_, flows, err := compile(n)
		if err != nil {
			return
		}
		for _, fl := range flows {
			st := &state{Answers: map[string]string{}}
			for i, s := range fl.steps {
				st.Step = i
				if v, ok := s.check(answer, st.Answers, "alice"); ok {
					st.Answers[s.key] = v
				}
				d := map[string]any{"Flow": fl.name, "Sender": "alice", "SenderID": "alice", "Answers": st.Answers}
				for _, s := range fl.steps {
					d[s.key] = st.Answers[s.key]
				}
				_, _ = execute(s.ask, d)
				_, _ = execute(fl.reply, d)
			}
		}
	})
}

func TestFlowsFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "flows.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := config.ParseNode("flows.yaml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, flows, err := compile(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 1 || len(flows[0].steps) != 3 || flows[0].timeout.Minutes() != 2 || set.Cancel[0] != "stop" {
		t.Fatalf("%+v %+v", set, flows)
	}
	s := flows[0].steps
	for _, tt := range []struct {
		step   int
		answer string
		want   string
		ok     bool
	}{
		{0, "LARGE", "large", true}, {0, "medium", "", false},
		{1, "3", "3", true}, {1, "2.5", "", false}, {1, "10", "", false}, {1, "0", "", false}, {1, "NaN", "", false},
		{2, "ABCD", "ABCD", true}, {2, "abcd", "", false}, {2, "", "", false},
	} {
		got, ok := s[tt.step].check(tt.answer, map[string]string{}, "alice")
		if got != tt.want || ok != tt.ok {
			t.Errorf("step %d check(%q) = %q %v, want %q %v", tt.step+1, tt.answer, got, ok, tt.want, tt.ok)
		}
	}
}
