package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// The settings the command reads, by the names of the environment variables that carry them;
// a credentials file uses the same names, one NAME=value a line.
const (
	envKey      = "LOYALTY_API_KEY"
	envAppToken = "LOYALTY_APP_TOKEN"
	envBaseURL  = "LOYALTY_BASE_URL"
)

// setting is one credential or address, and where it came from (a variable's name, a file's
// path), for the hints of errors a wrong one causes.
type setting struct{ value, source string }

// settings are what a client is made from.
type settings struct{ key, appToken, baseURL setting }

// settings reads the credentials: each from its environment variable when set, else from the
// credentials file. A file named by --credentials must exist; the default one may not.
func (a *app) settings() (settings, error) {
	file, named := a.credentials, a.credentials != ""
	if !named {
		if dir, err := os.UserConfigDir(); err == nil {
			file = filepath.Join(dir, "loyalty", "credentials")
		}
	}
	fromFile := map[string]string{}
	if file != "" {
		m, err := readCredentials(file)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !named:
		case err != nil:
			return settings{}, usageError{err}
		default:
			fromFile = m
		}
	}
	var s settings
	for _, f := range []struct {
		name string
		to   *setting
	}{{envKey, &s.key}, {envAppToken, &s.appToken}, {envBaseURL, &s.baseURL}} {
		if v, ok := a.getenv(f.name); ok {
			if strings.TrimSpace(v) == "" {
				return settings{}, usagef("%s is set, but empty: set it, or unset it to use the credentials file", f.name)
			}
			*f.to = setting{strings.TrimSpace(v), f.name}
		} else if v := fromFile[f.name]; v != "" {
			*f.to = setting{v, file}
		}
	}
	return s, nil
}

// readCredentials reads a credentials file: lines NAME=value, "export " allowed before them
// (so the sandbox's own lines can be pasted in), # comments. A file other users can read is
// refused, as ssh refuses such a key.
func readCredentials(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s can be read by other users (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		name = strings.TrimSpace(name)
		switch {
		case !ok:
			return nil, fmt.Errorf("%s:%d: want NAME=value", path, n)
		case name != envKey && name != envAppToken && name != envBaseURL:
			return nil, fmt.Errorf("%s:%d: unknown name %q (want %s, %s or %s)", path, n, name, envKey, envAppToken, envBaseURL)
		}
		m[name] = strings.Trim(strings.TrimSpace(value), `"'`)
	}
	return m, sc.Err()
}

// api returns the client the command acts with, made on first use.
func (a *app) api() (*loyalty.Client, error) {
	if a.client != nil {
		return a.client, nil
	}
	s, err := a.settings()
	if err != nil {
		return nil, err
	}
	if s.key.value == "" {
		return nil, usagef("no API key: set %s, or put %s=... in a credentials file (--credentials)", envKey, envKey)
	}
	opts := []loyalty.Option{loyalty.WithUserAgent("loyalty-cli"), loyalty.WithRateLimit(a.rate, max(1, int(a.rate)))}
	if s.baseURL.value != "" {
		opts = append(opts, loyalty.WithBaseURL(s.baseURL.value))
	}
	if s.appToken.value != "" {
		opts = append(opts, loyalty.WithAppToken(s.appToken.value))
	}
	opts = append(opts, loyalty.WithSources(s.key.source, s.appToken.source, s.baseURL.source))
	ledger, err := a.openLedger()
	if err != nil {
		return nil, err
	}
	if ledger != nil {
		opts = append(opts, loyalty.WithLedger(ledger))
	}
	c, err := loyalty.NewClient(s.key.value, opts...)
	if err != nil {
		return nil, usageError{err} // a setting is wrong (an address, --rate): nothing was sent
	}
	a.client = c
	return c, nil
}

// openLedger opens the file ledger runs of the command share: the one --ledger names, else
// the one in the user's cache folder. Without a cache folder it can write, each run keeps its
// own in memory, as the SDK does by default, and says so.
func (a *app) openLedger() (loyalty.Ledger, error) {
	path := a.ledger
	if path == "" {
		dir, err := os.UserCacheDir()
		if err == nil {
			path = filepath.Join(dir, "loyalty", "ledger.json")
			var l *fileLedger
			if l, err = openFileLedger(path); err == nil {
				return l, nil
			}
		}
		fmt.Fprintf(a.err, "loyalty: no once-ledger shared between runs (%v); this run keeps its own\n", err)
		return nil, nil
	}
	l, err := openFileLedger(path)
	if err != nil {
		return nil, fmt.Errorf("the once-ledger: %w", err)
	}
	return l, nil
}
