package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeCommandsAreTheScriptsOwn keeps the README's "Command line" section honest: each
// command it shows is a command one of the scripts runs.
func TestReadmeCommandsAreTheScriptsOwn(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## Command line\n")
	require.True(t, ok, "README has a Command line section")
	section, _, _ = strings.Cut(section, "\n## ")

	scripts, err := filepath.Glob("testdata/script/*.txtar")
	require.NoError(t, err)
	run := map[string]bool{}
	exec := regexp.MustCompile(`^!? ?exec (?:exits \d+ )?(loyalty .*?)(?: &\w*&)?$`)
	for _, f := range scripts {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, line := range strings.Split(string(b), "\n") {
			if m := exec.FindStringSubmatch(line); m != nil {
				run[m[1]] = true
			}
		}
	}

	shown := 0
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "loyalty ") {
			continue
		}
		cmd, _, _ := strings.Cut(line, "#")
		cmd = strings.TrimSpace(cmd)
		shown++
		assert.True(t, run[cmd], "README command not run by any script: %s", cmd)
	}
	assert.GreaterOrEqual(t, shown, 10)
}
