package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// file is a local file with the given content: fixture_file. Read
// notices a file changed or removed outside terraform, so a refresh
// shows drift.
type file struct{}

type fileModel struct {
	ID      types.String `tfsdk:"id"`
	Path    types.String `tfsdk:"path"`
	Content types.String `tfsdk:"content"`
	SHA256  types.String `tfsdk:"sha256"`
}

func newFile() resource.Resource { return file{} }

func (file) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_file"
}

func (file) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"path": schema.StringAttribute{
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"content": schema.StringAttribute{Required: true},
			"sha256":  schema.StringAttribute{Computed: true},
		},
	}
}

func (file) write(m *fileModel) error {
	content := []byte(m.Content.ValueString())
	if err := os.WriteFile(m.Path.ValueString(), content, 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(content)
	m.ID = m.Path
	m.SHA256 = types.StringValue(hex.EncodeToString(sum[:]))
	return nil
}

func (f file) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	f.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

// apply writes the planned file and records it in the state: Create and
// Update alike.
func (f file) apply(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	var m fileModel
	if diags.Append(plan.Get(ctx, &m)...); diags.HasError() {
		return
	}
	if err := f.write(&m); err != nil {
		diags.AddError("Cannot write the file", err.Error())
		return
	}
	diags.Append(state.Set(ctx, &m)...)
}

func (file) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m fileModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	content, err := os.ReadFile(m.Path.ValueString())
	if errors.Is(err, fs.ErrNotExist) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the file", err.Error())
		return
	}
	sum := sha256.Sum256(content)
	m.Content = types.StringValue(string(content))
	m.SHA256 = types.StringValue(hex.EncodeToString(sum[:]))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (f file) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	f.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (file) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m fileModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	if err := os.Remove(m.Path.ValueString()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		resp.Diagnostics.AddError("Cannot remove the file", err.Error())
	}
}
