// Package boundedhcl parses HCL native syntax from an untrusted repository
// within limits the HCL parser itself does not have.
//
// hclsyntax parses and evaluates by recursion: each bracket, quote,
// template directive, unary operator or chained conditional is a level,
// and a left-deep chain of binary operators is a level per operator when
// the result is evaluated. 200 KB of "[" ends the process with a fatal
// stack overflow, which no recover catches. ParseConfig first lexes the
// source (the lexer does not recurse) and refuses a file whose nesting or
// statement size exceeds the limits, with a diagnostic at the offending
// token; only then does it hand the bytes to the parser. ValueSize
// measures evaluated values against MaxValueSize.
package boundedhcl

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// MaxNesting bounds how deeply constructs nest: brackets, quotes,
// heredocs, template directives, blocks, runs of unary operators and
// chains of conditionals. Hand-written configuration rarely passes 10.
const MaxNesting = 128

// MaxStatementTokens bounds the tokens of one attribute or block header,
// which bounds the depth of its expression tree (an "a + b + ..." chain
// is as deep as it is long). A 10,000-element list of strings fits.
const MaxStatementTokens = 1 << 16

// MaxDiags bounds the diagnostics reported for one file: a binary or badly
// broken file would otherwise yield thousands.
const MaxDiags = 10

// ParseConfig checks src against the limits and parses it as a config
// file known as filename. On any error the file is nil. At most MaxDiags
// diagnostics are returned, the last saying how many were left out. It is
// safe for concurrent use; it costs a lexing pass over src on top of
// hclsyntax.ParseConfig.
func ParseConfig(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	if !withinLimits(src) {
		diags, lexDiags := check(src, filename)
		if diags.HasErrors() {
			return nil, diags
		}
		if len(lexDiags) > MaxDiags && lexDiags.HasErrors() {
			// Junk: the parser would report every line again, slowly.
			return nil, Truncate(lexDiags, MaxDiags, filename)
		}
	}
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	diags = Truncate(diags, MaxDiags, filename)
	if diags.HasErrors() {
		return nil, diags
	}
	return f, diags
}

// withinLimits reports, without lexing, that src cannot exceed the
// limits Check enforces, which spares most files the lexing pass. Every
// level Check counts starts at a byte of its own among ( [ { " < $ % ! - ?
// (a bracket, quote, heredoc, template interpolation or directive, unary
// operator or conditional), so a file with at most MaxNesting of them
// nests at most that deep; and a file of fewer than MaxStatementTokens/2
// bytes has fewer tokens than that in all (every token but the end of
// file is at least one byte, with room to spare for empty literals).
func withinLimits(src []byte) bool {
	if len(src) >= MaxStatementTokens/2 {
		return false
	}
	n := 0
	for _, b := range src {
		switch b {
		case '(', '[', '{', '"', '<', '$', '%', '!', '-', '?':
			n++
		}
	}
	return n <= MaxNesting
}

// Truncate returns diags cut to max entries, the last replaced by an
// error saying how many more problems subject holds.
func Truncate(diags hcl.Diagnostics, max int, subject string) hcl.Diagnostics {
	if len(diags) <= max {
		return diags
	}
	more := len(diags) - max
	start := hcl.Range{Filename: subject, Start: hcl.InitialPos, End: hcl.InitialPos}
	return append(diags[:max:max], &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Too many errors",
		Detail:   fmt.Sprintf("%d more problems in %s are not shown; fix the ones above first.", more, subject),
		Subject:  &start,
	})
}

// frame is one open construct while checking.
type frame struct {
	block     bool // a block body: its newlines end statements
	directive bool // a template if/for, closed by endif/endfor
	ternaries int  // "?" seen since the last "," or statement start
}

// Check lexes src and reports the first place where it exceeds
// MaxNesting or MaxStatementTokens. It does not report syntax errors:
// the parser does. It is O(len(src)) and never recurses.
func Check(src []byte, filename string) hcl.Diagnostics {
	diags, _ := check(src, filename)
	return diags
}

// check is Check that also returns the lexer's diagnostics.
func check(src []byte, filename string) (hcl.Diagnostics, hcl.Diagnostics) {
	tokens, lexDiags := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	stack := []frame{{block: true}}
	ternaries := 0  // sum of the frames' ternaries
	unary := 0      // current run of "!" and "-"
	stmtTokens := 0 // tokens of the current statement
	stmtEqual := false
	afterControl := false
	tooDeep := func(tok hclsyntax.Token) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Nesting too deep",
			Detail: fmt.Sprintf("Brackets, quotes, templates, blocks, unary operators and conditionals nest over %d levels deep here. "+
				"tmci refuses such a file rather than exhaust its stack; flatten the expression (name parts of it in globals).", MaxNesting),
			Subject: tok.Range.Ptr(),
		}}
	}
	for _, tok := range tokens {
		top := &stack[len(stack)-1]
		if tok.Type == hclsyntax.TokenComment {
			continue
		}
		if tok.Type == hclsyntax.TokenNewline && top.block {
			ternaries -= top.ternaries
			top.ternaries = 0
			stmtTokens, stmtEqual = 0, false
			continue
		}
		stmtTokens++
		if stmtTokens > MaxStatementTokens {
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Expression too large",
				Detail: fmt.Sprintf("This attribute's expression is over %d tokens long. "+
					"tmci refuses such a file rather than exhaust its stack; split the value into several globals.", MaxStatementTokens),
				Subject: tok.Range.Ptr(),
			}}, lexDiags
		}
		if tok.Type == hclsyntax.TokenBang || tok.Type == hclsyntax.TokenMinus {
			unary++
		} else {
			unary = 0
		}
		wasControl := afterControl
		afterControl = tok.Type == hclsyntax.TokenTemplateControl
		push := false
		switch tok.Type {
		case hclsyntax.TokenEqual:
			stmtEqual = true
		case hclsyntax.TokenOBrace:
			block := top.block && !stmtEqual
			stack = append(stack, frame{block: block})
			if block {
				stmtTokens, stmtEqual = 0, false
			}
			push = true
		case hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			stack = append(stack, frame{})
			push = true
		case hclsyntax.TokenIdent:
			if !wasControl {
				break
			}
			switch string(tok.Bytes) {
			case "if", "for":
				// Below the "%{" frame, which its "}" closes.
				ctrl := stack[len(stack)-1]
				stack = append(append(stack[:len(stack)-1], frame{directive: true}), ctrl)
				push = true
			case "endif", "endfor":
				// The directive frame lies below the "%{" frame.
				if n := len(stack); n >= 2 && stack[n-2].directive {
					ternaries -= stack[n-2].ternaries
					stack = append(stack[:n-2], stack[n-1])
				}
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
			hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			// Unbalanced closers and unclosed directives are the
			// parser's to report.
			for len(stack) > 1 && stack[len(stack)-1].directive {
				ternaries -= stack[len(stack)-1].ternaries
				stack = stack[:len(stack)-1]
			}
			if top = &stack[len(stack)-1]; len(stack) > 1 {
				ternaries -= top.ternaries
				wasBlock := top.block
				stack = stack[:len(stack)-1]
				if wasBlock {
					stmtTokens, stmtEqual = 0, false
				}
			}
		case hclsyntax.TokenQuestion:
			top.ternaries++
			ternaries++
		case hclsyntax.TokenComma:
			ternaries -= top.ternaries
			top.ternaries = 0
		}
		if push || unary > 0 || tok.Type == hclsyntax.TokenQuestion {
			if len(stack)-1+ternaries+unary > MaxNesting {
				return tooDeep(tok), lexDiags
			}
		}
	}
	return nil, lexDiags
}

// MaxValueSize bounds the size of any value tmci evaluates (a global, a
// backend attribute), as ValueSize counts it. Without it, 35 globals that
// each double a string take the machine's memory.
const MaxValueSize = 1 << 20

// ValueSize returns the size of v: the bytes of its strings plus 8 per
// number, bool, null or unknown and per element, key and attribute. It
// stops counting once the size passes limit, so it costs O(limit) at
// most, and returns a value over limit then. Marks are looked through.
func ValueSize(v cty.Value, limit int) int {
	n := 0
	var walk func(cty.Value)
	walk = func(v cty.Value) {
		if n > limit {
			return
		}
		v, _ = v.Unmark()
		n += 8
		if v.IsNull() || !v.IsKnown() {
			return
		}
		ty := v.Type()
		switch {
		case ty == cty.String:
			n += len(v.AsString())
		case ty.IsObjectType():
			for k := range ty.AttributeTypes() {
				n += len(k)
				walk(v.GetAttr(k))
			}
		case ty.IsMapType():
			for it := v.ElementIterator(); it.Next() && n <= limit; {
				k, e := it.Element()
				n += len(k.AsString())
				walk(e)
			}
		case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
			for it := v.ElementIterator(); it.Next() && n <= limit; {
				_, e := it.Element()
				walk(e)
			}
		}
	}
	walk(v)
	return n
}
