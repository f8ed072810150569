package parallel

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

func TestFor(t *testing.T) {
	for _, procs := range []int{1, 4} {
		t.Run(fmt.Sprint(procs, " cores"), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			// Every item runs once.
			var runs [100]atomic.Int32
			if err := For(context.Background(), len(runs), func(i int) error { runs[i].Add(1); return nil }); err != nil {
				t.Fatal(err)
			}
			for i := range runs {
				if n := runs[i].Load(); n != 1 {
					t.Fatalf("item %d ran %d times", i, n)
				}
			}
			// The lowest failing item's error, whichever failed first.
			err := For(context.Background(), 50, func(i int) error {
				if i == 7 || i == 31 {
					return fmt.Errorf("item %d", i)
				}
				return nil
			})
			if err == nil || err.Error() != "item 7" {
				t.Errorf("err = %v, want item 7's", err)
			}
			// A done context stops the items not yet started.
			ctx, cancel := context.WithCancel(context.Background())
			var ran atomic.Int32
			err = For(ctx, 1000, func(i int) error {
				ran.Add(1)
				if i == 0 {
					cancel()
				} else {
					<-ctx.Done() // an item under way when the context ends
				}
				return nil
			})
			if !errors.Is(err, context.Canceled) || ran.Load() > int32(procs) {
				t.Errorf("after cancel: err %v, %d of 1000 items ran; want at most one a goroutine", err, ran.Load())
			}
			if err := For(context.Background(), 0, func(int) error { return errors.New("ran") }); err != nil {
				t.Errorf("no items: %v", err)
			}
		})
	}
}
