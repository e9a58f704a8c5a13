package engine

import (
	"github.com/tmci/tmci/backend"
	"github.com/tmci/tmci/report"
)

// Backends returns, from a passed isolation check of env, each stack's
// backend and the state object it identifies for the report, sensitive
// parts redacted; both by stack path. A stack with invalid code
// (rep.StackDiags) has no state object in the report.
func Backends(res *backend.Resolver, rep *backend.Report, env string) (map[string]*backend.Config, map[string]*report.BackendReport) {
	configs := map[string]*backend.Config{}
	ids := map[string]*report.BackendReport{}
	for _, c := range rep.Configs(env) {
		configs[c.Stack.Path] = c
		if _, invalid := rep.StackDiags[c.Stack.Path]; invalid {
			continue // its state object is not known: it does not run
		}
		code, _ := res.StackCode(c.Stack) // Check reported its problems
		id := c.Identity(code.Attrs)
		b := &report.BackendReport{Type: id.Type, Identity: map[string]string{}}
		for _, part := range id.Parts {
			b.Identity[part.Name] = part.Value
			if part.Sensitive {
				b.Identity[part.Name] = backend.Redacted
			}
		}
		ids[c.Stack.Path] = b
	}
	return configs, ids
}
