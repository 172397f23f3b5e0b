package loyalty

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTimestampReadsLeniently(t *testing.T) {
	t.Parallel()
	utc := func(s string) time.Time { return mustTime(t, s).UTC() }
	tests := []struct {
		in   string
		want time.Time
		raw  string
	}{
		{`"2026-01-31T18:00:00+00:00"`, utc("2026-01-31T18:00:00Z"), ""},
		{`"2026-01-31T18:00:00Z"`, utc("2026-01-31T18:00:00Z"), ""},
		{`"2026-01-31T18:00:00.123+02:00"`, mustTime(t, "2026-01-31T16:00:00.123Z").UTC(), ""},
		{`"2026-01-31T18:00:00+0200"`, utc("2026-01-31T16:00:00Z"), ""},
		{`"2026-01-31 18:00:00"`, utc("2026-01-31T18:00:00Z"), ""},
		{`"2026-01-31"`, utc("2026-01-31T00:00:00Z"), ""},
		{`1765734064`, time.Unix(1765734064, 0).UTC(), ""},
		{`null`, time.Time{}, ""},
		{`""`, time.Time{}, ""},
		{`"0000-00-00 00:00:00"`, time.Time{}, "0000-00-00 00:00:00"},
		{`"next tuesday"`, time.Time{}, "next tuesday"},
	}
	for _, tt := range tests {
		var ts Timestamp
		require.NoError(t, json.Unmarshal([]byte(tt.in), &ts), tt.in)
		assert.True(t, tt.want.Equal(ts.Time), "%s: got %v", tt.in, ts.Time)
		assert.Equal(t, tt.raw, ts.Raw(), tt.in)
	}
}

func TestTimestampWritesTheAPIForm(t *testing.T) {
	t.Parallel()
	ny := time.FixedZone("EST", -5*3600)
	b, err := json.Marshal(Timestamp{Time: time.Date(2026, 1, 31, 18, 0, 0, 999, ny)})
	require.NoError(t, err)
	assert.Equal(t, `"2026-01-31T18:00:00-05:00"`, string(b), "seconds, numeric offset, no fraction")
	b, err = json.Marshal(Timestamp{Time: time.Date(2026, 1, 31, 18, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	assert.Equal(t, `"2026-01-31T18:00:00+00:00"`, string(b), "never Z")
	b, err = json.Marshal(Timestamp{})
	require.NoError(t, err)
	assert.Equal(t, `null`, string(b))
	var kept Timestamp
	require.NoError(t, json.Unmarshal([]byte(`"garbage"`), &kept))
	b, err = json.Marshal(kept)
	require.NoError(t, err)
	assert.Equal(t, `"garbage"`, string(b), "unreadable text round-trips")
	assert.False(t, kept.IsZero())
}

func TestDate(t *testing.T) {
	t.Parallel()
	d, err := ParseDate("1990-04-03")
	require.NoError(t, err)
	assert.Equal(t, Date{1990, time.April, 3}, d)
	assert.Equal(t, "1990-04-03", d.String())
	_, err = ParseDate("03/04/1990")
	assert.Error(t, err)

	b, err := json.Marshal(d)
	require.NoError(t, err)
	assert.Equal(t, `"1990-04-03"`, string(b))
	b, err = json.Marshal(Date{})
	require.NoError(t, err)
	assert.Equal(t, `null`, string(b))

	for in, want := range map[string]Date{
		`"1990-04-03"`: {1990, time.April, 3}, `"1990-04-03T00:00:00+00:00"`: {1990, time.April, 3},
		`null`: {}, `""`: {}, `"n/a"`: {},
	} {
		var got Date
		require.NoError(t, json.Unmarshal([]byte(in), &got), in)
		assert.Equal(t, want, got, in)
	}

	v := url.Values{}
	require.NoError(t, Date{2026, time.November, 1}.EncodeValues("startDate", &v))
	require.NoError(t, Date{}.EncodeValues("endDate", &v))
	assert.Equal(t, "startDate=2026-11-01", v.Encode())
	assert.Equal(t, Date{2026, time.November, 26}, DateOf(time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)))
	assert.False(t, Date{2026, time.February, 29}.valid())
	assert.True(t, Date{2028, time.February, 29}.valid())
}

func TestTimestampReadsQuotedUnixSeconds(t *testing.T) {
	t.Parallel()
	var ts Timestamp
	require.NoError(t, json.Unmarshal([]byte(`"1735689600"`), &ts))
	assert.Equal(t, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ts.Time)
	assert.Empty(t, ts.Raw())
}
