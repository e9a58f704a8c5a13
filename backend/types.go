package backend

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// typeSpec is what tmci knows about one backend type: which attributes
// name the state object, their defaults, and the limits of their values.
type typeSpec struct {
	// identity lists, in order, the attributes that together name the
	// state object; two configs with equal values share state.
	identity []string
	// primary is the identity attribute users vary per stack and
	// environment; isolation diagnostics point at it.
	primary string
	// defaults are the values the backend uses when an identity
	// attribute is not set.
	defaults map[string]string
	// required lists groups of attributes of which one must be set.
	required [][]string
	// limits checks each value; it returns one problem per bad attribute.
	limits []limit
	// objects names the nested groups terraform declares as attributes
	// of object type rather than blocks; tmci.hcl writes both as
	// blocks, a .tfbackend file must write these as name = { ... }.
	objects []string
}

// objectAttr reports whether the nested group name is an object
// attribute of the type.
func (s typeSpec) objectAttr(name string) bool {
	for _, o := range s.objects {
		if o == name {
			return true
		}
	}
	return false
}

// limit checks the value of one attribute.
type limit struct {
	attr  string
	check func(v string) error
}

// specs holds every type of project.BackendTypes. It is read-only.
// bucketPrefixKey is the layout of the Alibaba (oss) and Tencent (cos)
// backends: <prefix><workspace>/<key> in a bucket, under OSS's 1,023-byte
// object name limit.
var bucketPrefixKey = typeSpec{
	identity: []string{"bucket", "prefix", "key"},
	primary:  "prefix",
	defaults: map[string]string{"prefix": "env:", "key": "terraform.tfstate"},
	required: [][]string{{"bucket"}},
	limits: []limit{
		{"prefix", maxBytes(1023)},
		{"key", all(nonEmpty, maxBytes(1023))},
	},
}

var specs = map[string]typeSpec{
	"s3": {
		identity: []string{"bucket", "key", "workspace_key_prefix"},
		primary:  "key",
		defaults: map[string]string{"workspace_key_prefix": "env:"},
		required: [][]string{{"bucket"}, {"key"}},
		limits: []limit{
			{"bucket", matches(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`, "an S3 bucket name is 3 to 63 characters from a-z, 0-9, '.' and '-', starting and ending with a letter or digit")},
			{"key", objectKey(1024)},
			{"workspace_key_prefix", objectKey(1024)},
		},
		// terraform ≥ 1.6 and tofu 1.6 (NestedType attributes).
		objects: []string{"endpoints", "assume_role", "assume_role_with_web_identity"},
	},
	"gcs": {
		identity: []string{"bucket", "prefix"},
		primary:  "prefix",
		defaults: map[string]string{"prefix": ""},
		required: [][]string{{"bucket"}},
		limits: []limit{
			{"bucket", matches(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`, "a GCS bucket name is 3 to 222 characters from a-z, 0-9, '.', '_' and '-', starting and ending with a letter or digit")},
			{"prefix", all(maxBytes(1024), noNewline)},
		},
	},
	"azurerm": {
		identity: []string{"storage_account_name", "container_name", "key"},
		primary:  "key",
		required: [][]string{{"storage_account_name"}, {"container_name"}, {"key"}},
		limits: []limit{
			{"storage_account_name", matches(`^[a-z0-9]{3,24}$`, "a storage account name is 3 to 24 characters from a-z and 0-9")},
			{"container_name", all(
				matches(`^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$`, "a container name is 3 to 63 characters from a-z, 0-9 and '-', starting and ending with a letter or digit"),
				notContains("--", "a container name holds no consecutive dashes"))},
			{"key", all(maxChars(1024), nonEmpty)},
		},
	},
	"local": {
		identity: []string{"path"},
		primary:  "path",
		defaults: map[string]string{"path": "terraform.tfstate"},
		limits:   []limit{{"path", all(nonEmpty, notContains("\x00", "a path holds no NUL byte"))}},
	},
	"pg": {
		identity: []string{"conn_str", "schema_name"},
		primary:  "schema_name",
		defaults: map[string]string{"conn_str": "", "schema_name": "terraform_remote_state"},
		limits: []limit{{"schema_name", all(nonEmpty, func(v string) error {
			if len(v) > pgMaxIdent {
				return fmt.Errorf("%d bytes long; PostgreSQL silently truncates identifiers to %d bytes, so two long names can share one schema. Shorten it, for example with substr(sha256(...), 0, 12)", len(v), pgMaxIdent)
			}
			return nil
		})}},
	},
	"http": {
		identity: []string{"address"},
		primary:  "address",
		required: [][]string{{"address"}},
		limits:   []limit{{"address", httpURL}},
	},
	"consul": {
		identity: []string{"address", "path"},
		primary:  "path",
		defaults: map[string]string{"address": ""},
		required: [][]string{{"path"}},
		limits:   []limit{{"path", all(nonEmpty, noNewline)}},
	},
	"kubernetes": {
		identity: []string{"namespace", "secret_suffix"},
		primary:  "secret_suffix",
		defaults: map[string]string{"namespace": "default"},
		required: [][]string{{"secret_suffix"}},
		limits: []limit{
			{"namespace", dnsLabel},
			{"secret_suffix", dnsLabel},
		},
	},
	"oss": bucketPrefixKey,
	"cos": bucketPrefixKey,
	"remote": {
		identity: []string{"hostname", "organization", "workspaces.name", "workspaces.prefix"},
		primary:  "workspaces.name",
		defaults: map[string]string{"hostname": "app.terraform.io", "workspaces.name": "", "workspaces.prefix": ""},
		required: [][]string{{"organization"}, {"workspaces.name", "workspaces.prefix"}},
		limits: []limit{
			{"organization", remoteName},
			{"workspaces.name", remoteName},
			{"workspaces.prefix", remoteName},
		},
	},
}

// pgMaxIdent is PostgreSQL's NAMEDATALEN-1: longer identifiers are cut.
const pgMaxIdent = 63

// sensitiveNames are attribute names whose values are credentials.
var sensitiveNames = map[string]bool{
	"password": true, "secret_key": true, "access_key": true, "token": true,
	"conn_str": true, "sas_token": true, "client_secret": true,
	"client_certificate_password": true, "secret_id": true,
}

// SensitiveName reports whether an attribute of this name holds a secret
// by its nature, whatever its value.
func SensitiveName(name string) bool {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return sensitiveNames[name]
}

func all(checks ...func(string) error) func(string) error {
	return func(v string) error {
		for _, c := range checks {
			if err := c(v); err != nil {
				return err
			}
		}
		return nil
	}
}

func matches(pattern, rule string) func(string) error {
	re := regexp.MustCompile(pattern)
	return func(v string) error {
		if !re.MatchString(v) {
			return fmt.Errorf("not valid: %s", rule)
		}
		return nil
	}
}

func notContains(sub, rule string) func(string) error {
	return func(v string) error {
		if strings.Contains(v, sub) {
			return fmt.Errorf("not valid: %s", rule)
		}
		return nil
	}
}

func nonEmpty(v string) error {
	if v == "" {
		return fmt.Errorf("empty")
	}
	return nil
}

func noNewline(v string) error {
	if strings.ContainsAny(v, "\r\n") {
		return fmt.Errorf("not valid: it holds a line break")
	}
	return nil
}

func maxBytes(n int) func(string) error {
	return func(v string) error {
		if len(v) > n {
			return fmt.Errorf("%d bytes long; the limit is %d bytes", len(v), n)
		}
		return nil
	}
}

func maxChars(n int) func(string) error {
	return func(v string) error {
		if c := utf8.RuneCountInString(v); c > n {
			return fmt.Errorf("%d characters long; the limit is %d", c, n)
		}
		return nil
	}
}

// objectKey is the rule for S3 object keys tmci enforces: 1 to n bytes of
// UTF-8, no leading or trailing slash, no empty path segment.
func objectKey(n int) func(string) error {
	return all(nonEmpty, maxBytes(n), func(v string) error {
		switch {
		case !utf8.ValidString(v):
			return fmt.Errorf("not valid UTF-8")
		case strings.HasPrefix(v, "/"):
			return fmt.Errorf("not valid: it starts with '/', which gives an empty first path segment")
		case strings.HasSuffix(v, "/"):
			return fmt.Errorf("not valid: it ends with '/'")
		case strings.Contains(v, "//"):
			return fmt.Errorf("not valid: it holds '//', an empty path segment (is a template value empty?)")
		}
		return nil
	})
}

var dnsLabelPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// dnsLabel is Kubernetes' DNS-1123 label: what namespaces and label values
// (the secret suffix is one) accept.
func dnsLabel(v string) error {
	if len(v) > 63 || !dnsLabelPattern.MatchString(v) {
		return fmt.Errorf("not a DNS-1123 label: 1 to 63 characters from a-z, 0-9 and '-', starting and ending with a letter or digit (slug() makes one)")
	}
	return nil
}

var remoteNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func remoteName(v string) error {
	if len(v) > 90 || !remoteNamePattern.MatchString(v) {
		return fmt.Errorf("not valid: 1 to 90 characters from letters, digits, '-' and '_'")
	}
	return nil
}

func httpURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("not an http:// or https:// URL with a host")
	}
	return nil
}
