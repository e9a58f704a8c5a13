package engine

import (
	"fmt"
	"strings"

	"github.com/tmci/tmci/project"
)

// Environment is the environment a run targets, checked by
// CheckEnvironment.
type Environment struct {
	// Name is the --env value; "" when a project without environments
	// runs without --env.
	Name string
	// Decl is the matching environment block, or nil.
	Decl *project.Environment
}

// DirName is the name of the environment's directory under the work
// directory.
func (e Environment) DirName() string {
	if e.Name == "" {
		return "default"
	}
	return e.Name
}

// CheckEnvironment checks an --env value against the project: the one
// check every command that targets an environment makes. A project that
// declares environments or backends needs a name; one without tmci.hcl
// runs without. A name must match a declared environment when there are
// any, and be a valid environment name otherwise.
func CheckEnvironment(p *project.Project, name string) (Environment, error) {
	needed := len(p.TMCI.Environments) > 0 || len(p.TMCI.Backends) > 0
	if name == "" {
		if needed {
			return Environment{}, fmt.Errorf("--env is required: name the environment to run in (%s)", knownEnvs(p))
		}
		return Environment{}, nil
	}
	if len(p.TMCI.Environments) == 0 {
		return Environment{Name: name}, project.ValidateEnvName(name)
	}
	e, err := p.TMCI.Match(name)
	if err != nil {
		return Environment{}, err
	}
	return Environment{Name: name, Decl: e}, nil
}

func knownEnvs(p *project.Project) string {
	if len(p.TMCI.Environments) == 0 {
		return "tmci.hcl declares none"
	}
	names := make([]string, len(p.TMCI.Environments))
	for i, e := range p.TMCI.Environments {
		names[i] = e.Name
	}
	return "known: " + strings.Join(names, ", ")
}
