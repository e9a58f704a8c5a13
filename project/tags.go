package project

import (
	"fmt"
	"strings"
)

// TagFilter selects stacks by tags in Terramate's language: in an
// expression "a:b,c", ":" is AND and binds tighter than "," (OR); several
// include expressions are ORed; a stack matching an exclude tag is dropped.
// The zero value selects every stack.
//
// The edges follow Terramate 0.17.2: an empty OR branch is ignored ("x,"
// is "x"), an AND with an empty side matches nothing ("x:"), an include
// expression with no tag at all ("," or ":") matches nothing, and an empty
// expression is no filter. --no-tags is a comma-separated list of plain
// tags, so "a:b" there is an error.
type TagFilter struct {
	include    [][]string // OR of ANDs
	hasInclude bool       // an include expression was given, even one that matches nothing
	exclude    []string
}

// ParseTagFilter parses the values of repeated --tags and --no-tags flags.
func ParseTagFilter(include, exclude []string) (TagFilter, error) {
	var f TagFilter
	for _, expr := range include {
		if expr == "" {
			continue
		}
		f.hasInclude = true
		for _, clause := range strings.Split(expr, ",") {
			if clause == "" {
				continue
			}
			var and []string
			satisfiable := true
			for _, tag := range strings.Split(clause, ":") {
				if tag == "" {
					satisfiable = false
					continue
				}
				if !ValidTag(tag) {
					return TagFilter{}, fmt.Errorf("invalid tag %q in --tags %q: tags start and end with a-z or 0-9 and hold only a-z, 0-9, '-', '_', '.' and '/'; join tags with ':' for AND and ',' for OR", tag, expr)
				}
				and = append(and, tag)
			}
			if satisfiable {
				f.include = append(f.include, and)
			}
		}
	}
	for _, expr := range exclude {
		for _, tag := range strings.Split(expr, ",") {
			if tag == "" {
				continue
			}
			if !ValidTag(tag) {
				return TagFilter{}, fmt.Errorf("invalid tag %q in --no-tags %q: list plain tags separated by ',' (':' has no meaning here)", tag, expr)
			}
			f.exclude = append(f.exclude, tag)
		}
	}
	return f, nil
}

// Empty reports whether the filter selects every stack.
func (f TagFilter) Empty() bool { return !f.hasInclude && len(f.exclude) == 0 }

// Match reports whether s passes the filter.
func (f TagFilter) Match(s *Stack) bool {
	for _, t := range f.exclude {
		if s.HasTag(t) {
			return false
		}
	}
	if !f.hasInclude {
		return true
	}
	for _, and := range f.include {
		all := true
		for _, t := range and {
			if !s.HasTag(t) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
