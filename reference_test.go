// Tests of reference.go: the reference travels in an operation's comment.

package loyalty_test

import (
	"context"
	"strings"
	"testing"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReferenceTravelsInTheComment(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client
	ctx := context.Background()
	id := issueCards(t, srv, c, 1)[0]
	_, _, err := c.Cards.AddStamps(ctx, id, 1, &loyalty.ActionOptions{Comment: "till 3", Reference: "receipt-8812"})
	require.NoError(t, err)
	ops, _, err := c.Operations.List(ctx, &loyalty.OperationListOptions{CardID: id})
	require.NoError(t, err)
	require.Len(t, ops, 1)
	assert.Equal(t, "till 3 [ref:receipt-8812]", ops[0].Comment)
	ref, ok := loyalty.ReferenceOf(ops[0].Comment)
	assert.True(t, ok)
	assert.Equal(t, "receipt-8812", ref)

	for _, bad := range []string{"a]b", "[x", " lead", "trail ", "tab\there", strings.Repeat("x", 65)} {
		_, _, err := c.Cards.AddStamps(ctx, id, 1, &loyalty.ActionOptions{Reference: bad})
		assert.ErrorIs(t, err, loyalty.ErrInvalidArgument, "%q", bad)
	}
	_, _, err = c.Cards.SetExpirationDate(ctx, id, time.Now().Add(time.Hour), &loyalty.ActionOptions{Reference: "r"})
	assert.ErrorIs(t, err, loyalty.ErrInvalidArgument, "an action without a comment cannot carry a reference")
	_, _, err = c.Cards.ApplyOnce(ctx, id, loyalty.Bind(c.Cards.AddStamps, 1), &loyalty.ActionOptions{}, nil)
	assert.ErrorIs(t, err, loyalty.ErrInvalidArgument, "ApplyOnce needs a reference")
	_, _, err = c.Cards.ApplyOnce(ctx, id, nil, &loyalty.ActionOptions{Reference: "r"}, nil)
	assert.ErrorIs(t, err, loyalty.ErrInvalidArgument)
	for _, comment := range []string{"", "no tag", "[ref:]", "[ref:open"} {
		_, ok := loyalty.ReferenceOf(comment)
		assert.False(t, ok, comment)
	}
}
