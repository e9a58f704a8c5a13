package main

import (
	"context"
	_ "embed"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// padding makes the binary as large as a real provider's; the data
// source fixture_build reports its size, which also keeps the linker
// from dropping it.
//
//go:embed pad.bin
var padding []byte

type fixtureProvider struct{ version string }

func newProvider(version string) func() provider.Provider {
	return func() provider.Provider { return &fixtureProvider{version: version} }
}

func (p *fixtureProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "fixture"
	resp.Version = p.version
}

func (p *fixtureProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Resources that live in the state and on the local file system only.",
	}
}

func (p *fixtureProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *fixtureProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newCounter, newFile}
}

func (p *fixtureProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newBuild(p.version)}
}
