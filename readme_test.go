// The README's snippets, examples and figures are the tested ones.

package loyalty

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeSnippetsAreTested checks that every README code block marked
// "<!-- tested: ExampleName -->" appears, line for line, in that Example function, which the
// tests run with its Output. So the README's code cannot drift from code that works.
func TestReadmeSnippetsAreTested(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	marked := regexp.MustCompile("<!-- tested: ([\\w.]+) -->\n```go\n((?s:.*?))```")
	matches := marked.FindAllStringSubmatch(string(readme), -1)
	require.GreaterOrEqual(t, len(matches), 4)
	for _, m := range matches {
		name, snippet := m[1], m[2]
		file := "example_test.go"
		if pkg, fn, ok := strings.Cut(name, "."); ok {
			file, name = filepath.Join(pkg, "example_test.go"), fn
		}
		body := exampleBody(t, file, name)
		assert.Contains(t, normalize(body), normalize(snippet), "README snippet for %s is not in %s", name, file)
	}
}

// exampleBody returns the source of func name in file.
func exampleBody(t *testing.T, file, name string) string {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	start := strings.Index(string(src), "\nfunc "+name+"() {\n")
	require.GreaterOrEqual(t, start, 0, "no func %s in %s", name, file)
	end := strings.Index(string(src)[start:], "\n}\n")
	return string(src)[start : start+end]
}

// normalize drops indentation and blank lines, which differ between a README and a function.
func normalize(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestReadmeListsEveryExample keeps the README's table of examples and the examples/ folders
// in step.
func TestReadmeListsEveryExample(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	entries, err := os.ReadDir("examples")
	require.NoError(t, err)
	listed := regexp.MustCompile("\\| \\[`([a-z]+)`\\]\\(examples/([a-z]+)\\)").FindAllStringSubmatch(string(readme), -1)
	var inTable []string
	for _, m := range listed {
		assert.Equal(t, m[1], m[2], "the link names its folder")
		inTable = append(inTable, m[1])
	}
	var folders []string
	for _, e := range entries {
		if e.IsDir() {
			folders = append(folders, e.Name())
		}
	}
	assert.ElementsMatch(t, folders, inTable, "README table and examples/ folders")
}

// TestReadmeFiguresMatchBenchmarks keeps the README's performance summary honest: each row of
// its table is a row of BENCHMARKS.md's, and every number in the section appears there too.
func TestReadmeFiguresMatchBenchmarks(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	benchmarks, err := os.ReadFile("BENCHMARKS.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## Benchmarks\n")
	require.True(t, ok, "README has a Benchmarks section")
	section, _, _ = strings.Cut(section, "\n## ")
	section, _, _ = strings.Cut(section, "```") // the command, not a figure

	rows := 0
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| ---") || strings.HasPrefix(line, "| |") {
			continue
		}
		rows++
		assert.True(t, strings.Contains(string(benchmarks), "\n"+line+"\n"), "README row not in BENCHMARKS.md: %s", line)
	}
	assert.GreaterOrEqual(t, rows, 4, "the README summarises the per-call figures")
	for _, n := range regexp.MustCompile(`\d[\d,.]*\d|\d`).FindAllString(section, -1) {
		assert.True(t, strings.Contains(string(benchmarks), n), "README figure %s is not in BENCHMARKS.md", n)
	}
}
