package project

import (
	"fmt"
	"strings"
)

// TagFilter selects stacks by tags in Terramate's language: in an
// expression "a:b,c", ":" is AND and binds tighter than "," (OR); several
// include expressions are ORed; a stack matching an exclude tag is dropped.
// The zero value selects every stack.
type TagFilter struct {
	include [][]string // OR of ANDs
	exclude []string
}

// ParseTagFilter parses the values of repeated --tags and --no-tags flags.
func ParseTagFilter(include, exclude []string) (TagFilter, error) {
	var f TagFilter
	for _, expr := range include {
		for _, clause := range strings.Split(expr, ",") {
			var and []string
			for _, tag := range strings.Split(clause, ":") {
				if !ValidTag(tag) {
					return TagFilter{}, fmt.Errorf("invalid tag %q in --tags %q: tags start and end with a-z or 0-9 and hold only a-z, 0-9, '-', '_', '.' and '/'; join tags with ':' for AND and ',' for OR", tag, expr)
				}
				and = append(and, tag)
			}
			f.include = append(f.include, and)
		}
	}
	for _, expr := range exclude {
		for _, tag := range strings.FieldsFunc(expr, func(r rune) bool { return r == ',' || r == ':' }) {
			if !ValidTag(tag) {
				return TagFilter{}, fmt.Errorf("invalid tag %q in --no-tags %q: list tags separated by ','", tag, expr)
			}
			f.exclude = append(f.exclude, tag)
		}
		if strings.Trim(expr, ",:") == "" {
			return TagFilter{}, fmt.Errorf("empty --no-tags value: list tags separated by ','")
		}
	}
	return f, nil
}

// Empty reports whether the filter selects every stack.
func (f TagFilter) Empty() bool { return len(f.include) == 0 && len(f.exclude) == 0 }

// Match reports whether s passes the filter.
func (f TagFilter) Match(s *Stack) bool {
	for _, t := range f.exclude {
		if s.HasTag(t) {
			return false
		}
	}
	if len(f.include) == 0 {
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
