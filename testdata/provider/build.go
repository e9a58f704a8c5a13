package main

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// build describes the provider binary: fixture_build.
type build struct{ version string }

type buildModel struct {
	Version      types.String `tfsdk:"version"`
	PaddingBytes types.Int64  `tfsdk:"padding_bytes"`
}

func newBuild(version string) func() datasource.DataSource {
	return func() datasource.DataSource { return build{version: version} }
}

func (build) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_build"
}

func (build) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"version":       schema.StringAttribute{Computed: true},
			"padding_bytes": schema.Int64Attribute{Computed: true},
		},
	}
}

func (b build) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	m := buildModel{Version: types.StringValue(b.version), PaddingBytes: types.Int64Value(int64(len(padding)))}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
