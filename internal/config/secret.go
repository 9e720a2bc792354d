package config

import (
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/internal/secret"
)

// secret reads a credential: a plain value (which may be "${VAR}", expanded like the
// rest of the file), or a mapping {env: NAME} that takes it from the environment
// variable NAME, or {file: PATH} that takes it from a file (trailing newlines dropped;
// a relative path is taken from the config file's folder), as container secrets are
// mounted. A named variable or file that is missing or empty is a mistake.
func (d *decoder) secret(dst *secret.Secret) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) {
		v = resolve(v)
		if isNull(v) {
			return
		}
		if v.Kind != yaml.MappingNode {
			setting(d, dst, func(s string) (secret.Secret, error) { return secret.New(s), nil })(v, path)
			return
		}
		var env, file string
		d.mapping(v, path, fields{"env": d.text(&env), "file": d.file(&file)})
		switch {
		case env != "" && file != "":
			d.add(v.Line, path, "give env or file, not both")
		case env != "":
			val, ok := os.LookupEnv(env)
			if !ok || val == "" {
				d.add(v.Line, path+".env", "environment variable %s is not set", env)
				return
			}
			*dst = secret.New(val)
		case file != "":
			data, err := os.ReadFile(file)
			if err != nil {
				d.add(v.Line, path+".file", "cannot read the secret: %v", err)
				return
			}
			val := strings.TrimRight(string(data), "\r\n")
			if val == "" {
				d.add(v.Line, path+".file", "%s is empty", file)
				return
			}
			*dst = secret.New(val)
		default:
			d.add(v.Line, path, "give env: NAME or file: PATH")
		}
	}
}
