package tf

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Action is what a plan does to one resource instance. Replace is its own
// action here, where terraform's summary line counts it as both an add and
// a destroy.
type Action string

const (
	Create  Action = "create"
	Update  Action = "update"
	Delete  Action = "delete"
	Replace Action = "replace"
	Forget  Action = "forget"
)

// Change is one resource instance a plan changes, or one that drifted.
type Change struct {
	Address string `json:"address"`
	Action  Action `json:"action"`
}

// Summary counts what a saved plan would do, from `show -json`.
type Summary struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Replace int `json:"replace"`
	Forget  int `json:"forget"`
	// Drift counts resources changed outside terraform since the last
	// apply, found by the plan's refresh (resource_drift).
	Drift int `json:"drift"`
	// OutputChanges is true when an output value changes.
	OutputChanges bool `json:"output_changes"`
	// Changes and Drifted list the resources counted above, in plan order.
	Changes []Change `json:"resources,omitempty"`
	Drifted []Change `json:"drifted,omitempty"`
	// Unknown lists resources whose actions this version of tmci does not
	// know (a newer terraform); they are not counted.
	Unknown []string `json:"unknown,omitempty"`
}

// HasChanges reports whether applying the plan would change anything.
func (s Summary) HasChanges() bool {
	return s.Create+s.Update+s.Delete+s.Replace+s.Forget > 0 || s.OutputChanges || len(s.Unknown) > 0
}

// planJSON is the part of the plan representation tmci reads; other
// fields are ignored, as the format's compatibility promise allows.
type planJSON struct {
	FormatVersion   string           `json:"format_version"`
	ResourceChanges []resourceChange `json:"resource_changes"`
	ResourceDrift   []resourceChange `json:"resource_drift"`
	OutputChanges   map[string]struct {
		Actions []string `json:"actions"`
	} `json:"output_changes"`
}

type resourceChange struct {
	Address string `json:"address"`
	Deposed string `json:"deposed"`
	Change  struct {
		Actions []string `json:"actions"`
	} `json:"change"`
}

// supportedMajor is the major format_version tmci reads; a new major may
// change the meaning of the fields, so it is refused rather than misread.
const supportedMajor = "1"

// ParsePlan summarises the output of `terraform show -json PLANFILE` (or
// tofu's). It fails on a missing or unsupported format_version.
func ParsePlan(data []byte) (Summary, error) {
	var p planJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return Summary{}, fmt.Errorf("plan JSON: %w", err)
	}
	if p.FormatVersion == "" {
		return Summary{}, errors.New("plan JSON has no format_version: is it the output of show -json on a plan file?")
	}
	if major, _, _ := strings.Cut(p.FormatVersion, "."); major != supportedMajor {
		return Summary{}, fmt.Errorf("plan JSON format_version %s is not supported (tmci reads %s.x): use a terraform or tofu release tmci supports, or a newer tmci",
			p.FormatVersion, supportedMajor)
	}
	var s Summary
	for _, rc := range p.ResourceChanges {
		action, known := classify(rc.Change.Actions)
		addr := rc.address()
		switch {
		case !known:
			s.Unknown = append(s.Unknown, fmt.Sprintf("%s (%s)", addr, strings.Join(rc.Change.Actions, ",")))
			continue
		case action == "":
			continue
		}
		s.Changes = append(s.Changes, Change{Address: addr, Action: action})
		switch action {
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Delete:
			s.Delete++
		case Replace:
			s.Replace++
		case Forget:
			s.Forget++
		}
	}
	for _, rc := range p.ResourceDrift {
		if action, known := classify(rc.Change.Actions); known && action != "" {
			s.Drift++
			s.Drifted = append(s.Drifted, Change{Address: rc.address(), Action: action})
		}
	}
	for _, oc := range p.OutputChanges {
		if action, _ := classify(oc.Actions); action != "" {
			s.OutputChanges = true
		}
	}
	return s, nil
}

func (rc resourceChange) address() string {
	if rc.Deposed != "" {
		return rc.Address + " (deposed " + rc.Deposed + ")"
	}
	return rc.Address
}

// classify maps an actions list to an Action; "" means nothing changes
// (no-op, or a data source read).
func classify(actions []string) (Action, bool) {
	switch strings.Join(actions, ",") {
	case "no-op", "read":
		return "", true
	case "create":
		return Create, true
	case "update":
		return Update, true
	case "delete":
		return Delete, true
	case "delete,create", "create,delete":
		return Replace, true
	case "forget":
		return Forget, true
	}
	return "", false
}
