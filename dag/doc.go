// Package dag orders the stacks of a Terramate project: it resolves the
// after, before, wants and wanted_by references of every stack, grows a
// selection by its wants closure (and, on request, by its dependents),
// builds the ordering graph of a selection, rejects cycles with
// diagnostics that name every edge's declaration, computes the run order
// exactly as Terramate does, groups stacks into waves, walks the graph for
// a scheduler and draws it as DOT, Mermaid or JSON.
//
// The package knows neither git nor terraform, and it does not import the
// project loader either: it takes a minimal description of each stack
// (Stack: a path, tags, four reference lists and the source ranges that
// declared them). That keeps the ordering rules testable with plain Go
// values, lets the scheduler and the CI matrix build graphs without
// loading HCL, and makes the one-way dependency cmd/tmci → project, dag
// explicit: cmd/tmci converts project.Stack into Stack in a few lines.
//
// # Terramate's algorithm
//
// The order is Terramate's, step for step, so users can compare the two:
//
//  1. A reference is an absolute path, a path relative to the stack's
//     directory, or "tag:EXPR" ("a:b" is AND, "a,b" OR). A path selects
//     every stack at or below it; a tag query selects the subtree of every
//     stack it matches, nested stacks without the tag included.
//  2. Among the selected stacks, a parent runs before each nested stack,
//     and before the whole subtree of each nested selected stack.
//  3. The graph starts from the selected stacks and pulls in, recursively,
//     the stacks their own after and before entries reference. A stack
//     that merely references the selected ones is not pulled in.
//  4. A cycle anywhere in that graph is an error; a reference that selects
//     the stack itself is a cycle too.
//  5. Kahn's algorithm with a FIFO queue orders the graph: the initial
//     ready stacks sorted by path, and the stacks each step makes ready
//     sorted by path and appended to the queue. The stacks that were only
//     pulled in are then dropped from the order, so order survives through
//     them.
//
// Terramate sometimes loses the parent-before-child edge when the parent
// was reached through another stack's reference (its list --changed
// --run-order can print a nested stack before its parent); this package
// always keeps it. A stack at the project root counts as the parent of
// every other stack, as the documented rule says (Terramate's prefix test
// "/"+"/" appears to miss that case).
package dag
