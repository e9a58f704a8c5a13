package dag

// WantsPairs returns every pair of stacks (project paths) where selecting
// the first selects the second: its wants entries, and the stacks whose
// wanted_by entries name it. Such stacks share no order but always run in
// the same selection, so a fan-out must keep them in one job. O(R) for R
// resolved wants and wanted_by targets.
func (x *Index) WantsPairs() [][2]string {
	var out [][2]string
	for i, ts := range x.refs[refWants] {
		for _, t := range ts {
			out = append(out, [2]string{x.stacks[i].Path, x.stacks[t.stack].Path})
		}
	}
	for i, ts := range x.refs[refWantedBy] {
		for _, t := range ts {
			out = append(out, [2]string{x.stacks[t.stack].Path, x.stacks[i].Path})
		}
	}
	return out
}
