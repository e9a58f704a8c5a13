package tf_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmci/tmci/tf"
)

func TestParsePlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
		want tf.Summary
	}{
		{
			name: "every action",
			json: `{"format_version":"1.2","terraform_version":"1.5.7","resource_changes":[
				{"address":"terraform_data.keep","change":{"actions":["no-op"]}},
				{"address":"data.x.y","change":{"actions":["read"]}},
				{"address":"terraform_data.new","change":{"actions":["create"]}},
				{"address":"terraform_data.upd","change":{"actions":["update"]}},
				{"address":"terraform_data.old","change":{"actions":["delete"]}},
				{"address":"terraform_data.r1","change":{"actions":["delete","create"]}},
				{"address":"terraform_data.r2","change":{"actions":["create","delete"]}},
				{"address":"terraform_data.gone","change":{"actions":["forget"]}}
			]}`,
			want: tf.Summary{
				Create: 1, Update: 1, Delete: 1, Replace: 2, Forget: 1,
				Changes: []tf.Change{
					{Address: "terraform_data.new", Action: tf.Create},
					{Address: "terraform_data.upd", Action: tf.Update},
					{Address: "terraform_data.old", Action: tf.Delete},
					{Address: "terraform_data.r1", Action: tf.Replace},
					{Address: "terraform_data.r2", Action: tf.Replace},
					{Address: "terraform_data.gone", Action: tf.Forget},
				},
			},
		},
		{
			name: "drift and outputs",
			json: `{"format_version":"1.1","resource_drift":[
				{"address":"aws_s3_bucket.b","change":{"actions":["update"]}},
				{"address":"aws_s3_bucket.c","change":{"actions":["delete"]}},
				{"address":"aws_s3_bucket.d","change":{"actions":["no-op"]}}
			],"output_changes":{"o":{"actions":["update"]},"p":{"actions":["no-op"]}}}`,
			want: tf.Summary{
				Drift: 2, OutputChanges: true,
				Drifted: []tf.Change{
					{Address: "aws_s3_bucket.b", Action: tf.Update},
					{Address: "aws_s3_bucket.c", Action: tf.Delete},
				},
			},
		},
		{
			name: "deposed object and unknown fields",
			json: `{"format_version":"1.9","new_top_level":{"x":1},"resource_changes":[
				{"address":"a.b","deposed":"00a1","change":{"actions":["delete"],"brand_new":true}}
			]}`,
			want: tf.Summary{Delete: 1, Changes: []tf.Change{{Address: "a.b (deposed 00a1)", Action: tf.Delete}}},
		},
		{
			name: "unknown action is listed not counted",
			json: `{"format_version":"1.3","resource_changes":[
				{"address":"a.b","change":{"actions":["teleport"]}}
			]}`,
			want: tf.Summary{Unknown: []string{"a.b (teleport)"}},
		},
		{
			name: "empty plan",
			json: `{"format_version":"1.0"}`,
			want: tf.Summary{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tf.ParsePlan([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePlanErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, json, want string
	}{
		{"not json", `{`, "plan JSON: unexpected end of JSON input"},
		{"no version", `{"resource_changes":[]}`, "plan JSON has no format_version"},
		{"new major", `{"format_version":"2.0"}`, "plan JSON format_version 2.0 is not supported (tmci reads 1.x)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tf.ParsePlan([]byte(tt.json))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestHasChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    tf.Summary
		want bool
	}{
		{tf.Summary{}, false},
		{tf.Summary{Drift: 3}, false},
		{tf.Summary{Replace: 1}, true},
		{tf.Summary{OutputChanges: true}, true},
	}
	for _, tt := range tests {
		if got := tt.s.HasChanges(); got != tt.want {
			t.Errorf("%+v.HasChanges() = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func FuzzParsePlan(f *testing.F) {
	f.Add([]byte(`{"format_version":"1.2","resource_changes":[{"address":"a.b","change":{"actions":["delete","create"]}}]}`))
	f.Add([]byte(`{"format_version":"1.1","resource_drift":[{"address":"a","change":{"actions":["update"]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := tf.ParsePlan(data)
		if err != nil {
			return
		}
		if n := s.Create + s.Update + s.Delete + s.Replace + s.Forget; n != len(s.Changes) {
			t.Errorf("counted %d changes but listed %d", n, len(s.Changes))
		}
		if s.Drift != len(s.Drifted) {
			t.Errorf("counted %d drifted but listed %d", s.Drift, len(s.Drifted))
		}
	})
}
