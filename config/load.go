package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load builds the configuration from defaults, then the YAML file at path
// (skipped when path is empty), then the environment as returned by getenv
// (os.Getenv in production). It returns an *Error listing every problem.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	var problems []string
	if path != "" {
		if err := loadFile(path, &cfg); err != nil {
			problems = append(problems, err.Error())
		}
	}
	problems = append(problems, applyEnv(&cfg, getenv)...)
	if cfg.MetricsAddr == "off" { // an empty variable means "unset", so off needs a word
		cfg.MetricsAddr = ""
	}
	problems = append(problems, cfg.validate()...)
	if len(problems) > 0 {
		return cfg, &Error{Problems: problems}
	}
	return cfg, nil
}

// FromEnvironment is Load with os.Getenv.
func FromEnvironment(path string) (Config, error) { return Load(path, os.Getenv) }

func loadFile(path string, cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // a misspelt key is an error, not a silent default
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %s", path, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

// applyEnv overrides cfg with every AUTHD_* variable that is set, using the
// env struct tags, and returns one problem per unparsable value.
func applyEnv(cfg *Config, getenv func(string) string) []string {
	var problems []string
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("env")
		raw := getenv(name)
		if name == "" || raw == "" {
			continue
		}
		f := v.Field(i)
		switch {
		case f.Type() == durationType:
			d, err := time.ParseDuration(strings.TrimSpace(raw))
			if err != nil {
				problems = append(problems, problem(name, "%q is not a duration (use Go syntax, e.g. 15m, 720h, 10s)", raw))
				continue
			}
			f.SetInt(int64(d))
		case f.Kind() == reflect.Int:
			n, err := strconv.Atoi(strings.TrimSpace(raw))
			if err != nil {
				problems = append(problems, problem(name, "%q is not a whole number", raw))
				continue
			}
			f.SetInt(int64(n))
		case f.Kind() == reflect.Bool:
			b, err := strconv.ParseBool(strings.TrimSpace(raw))
			if err != nil {
				problems = append(problems, problem(name, "%q is not true or false", raw))
				continue
			}
			f.SetBool(b)
		case f.Kind() == reflect.String:
			f.SetString(strings.TrimSpace(raw))
		default:
			// A field kind without a parser is a programming error caught
			// by the package tests.
			problems = append(problems, problem(name, "unsupported setting type %s", f.Type()))
		}
	}
	return problems
}

// Settings lists every setting with its environment variable, YAML key and
// current value, secrets masked: for `authd config` output and docs.
func (c Config) Settings() []Setting {
	v := reflect.ValueOf(c)
	t := v.Type()
	out := make([]Setting, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		val := fmt.Sprint(v.Field(i).Interface())
		if f.Tag.Get("secret") == "true" && val != "" {
			val = "(set)"
		}
		out = append(out, Setting{Env: f.Tag.Get("env"), YAML: f.Tag.Get("yaml"), Value: val})
	}
	return out
}

// Setting is one configuration entry as shown to operators.
type Setting struct {
	Env   string
	YAML  string
	Value string
}
