package gcp

import (
	"context"
	"net"
	"testing"
	"time"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	_ "google.golang.org/protobuf/types/known/timestamppb" // google/protobuf/timestamp.proto for the test metadata type

	"github.com/lrokit/lrokit/lrotest/gcpfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func TestMain(m *testing.M) {
	registerTestMetadata()
	goleak.VerifyTestMain(m)
}

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is one fake Operations service and a virtual clock.
type env struct {
	t     *testing.T
	fake  *gcpfake.Operations
	clock *pollertest.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	fake, err := gcpfake.StartOperations()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	return &env{t: t, fake: fake, clock: pollertest.NewAutoClock(epoch)}
}

// client opens a new connection to the fake, as a new process would; it is
// closed at the end of the test unless the caller closes it earlier.
func (e *env) client() *lroauto.OperationsClient {
	e.t.Helper()
	c, err := e.fake.NewClient(context.Background())
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = c.Close() })
	return c
}

func (e *env) opts(mods ...func(*Options)) *Options {
	o := &Options{Options: poller.Options{Clock: e.clock}}
	for _, m := range mods {
		m(o)
	}
	return o
}

// computeEnv is one fake Compute service and a virtual clock.
type computeEnv struct {
	t     *testing.T
	fake  *gcpfake.Compute
	clock *pollertest.Clock
}

func newComputeEnv(t *testing.T) *computeEnv {
	t.Helper()
	fake := gcpfake.StartCompute()
	t.Cleanup(fake.Close)
	return &computeEnv{t: t, fake: fake, clock: pollertest.NewAutoClock(epoch)}
}

func (e *computeEnv) service() *compute.Service {
	e.t.Helper()
	svc, err := e.fake.NewService(context.Background())
	require.NoError(e.t, err)
	return svc
}

func (e *computeEnv) opts(mods ...func(*Options)) *Options {
	o := &Options{Options: poller.Options{Clock: e.clock}}
	for _, m := range mods {
		m(o)
	}
	return o
}

// seen is the part of an observation the scenarios compare.
type seen struct {
	Status   poller.Status
	Detail   string
	Progress float64
}

func seenOf(obs []poller.Observation) []seen {
	out := make([]seen, len(obs))
	for i, o := range obs {
		out[i] = seen{o.Status, o.Detail, o.Progress}
	}
	return out
}

// The test metadata type, a typed message with an enum state, a nested
// progress message (as Spanner's OperationProgress) and a create time. It is
// built at run time, since no generated Go type linked here has a percent
// field, and registered so that the adapter can decode it like any
// generated type.
var (
	testMetadataType protoreflect.MessageType
)

func registerTestMetadata() {
	fd := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("lrokit/gcptest/metadata.proto"),
		Package:    proto.String("lrokit.gcptest"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/timestamp.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{
				Name: proto.String("OperationProgress"),
				Field: []*descriptorpb.FieldDescriptorProto{{
					Name: proto.String("progress_percent"), JsonName: proto.String("progressPercent"), Number: proto.Int32(1),
					Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
				}},
			},
			{
				Name: proto.String("CreateClusterMetadata"),
				Field: []*descriptorpb.FieldDescriptorProto{
					{
						Name: proto.String("state"), JsonName: proto.String("state"), Number: proto.Int32(1),
						Type: descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
						TypeName: proto.String(".lrokit.gcptest.CreateClusterMetadata.State"),
					},
					{
						Name: proto.String("progress"), JsonName: proto.String("progress"), Number: proto.Int32(2),
						Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
						TypeName: proto.String(".lrokit.gcptest.OperationProgress"),
					},
					{
						Name: proto.String("create_time"), JsonName: proto.String("createTime"), Number: proto.Int32(3),
						Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
						TypeName: proto.String(".google.protobuf.Timestamp"),
					},
				},
				EnumType: []*descriptorpb.EnumDescriptorProto{{
					Name: proto.String("State"),
					Value: []*descriptorpb.EnumValueDescriptorProto{
						{Name: proto.String("STATE_UNSPECIFIED"), Number: proto.Int32(0)},
						{Name: proto.String("PROVISIONING"), Number: proto.Int32(1)},
						{Name: proto.String("RECONCILING"), Number: proto.Int32(2)},
					},
				}},
			},
		},
	}
	file, err := protodesc.NewFile(fd, protoregistry.GlobalFiles)
	if err != nil {
		panic(err)
	}
	testMetadataType = dynamicpb.NewMessageType(file.Messages().ByName("CreateClusterMetadata"))
	if err := protoregistry.GlobalTypes.RegisterMessage(testMetadataType); err != nil {
		panic(err)
	}
}

// clusterMetadata is a CreateClusterMetadata; state is an enum number,
// percent negative for none, created zero for none.
func clusterMetadata(state int32, percent int32, created time.Time) proto.Message {
	m := testMetadataType.New()
	fields := m.Descriptor().Fields()
	m.Set(fields.ByName("state"), protoreflect.ValueOfEnum(protoreflect.EnumNumber(state)))
	if percent >= 0 {
		pm := m.Mutable(fields.ByName("progress")).Message()
		pm.Set(pm.Descriptor().Fields().ByName("progress_percent"), protoreflect.ValueOfInt32(percent))
	}
	if !created.IsZero() {
		tm := m.Mutable(fields.ByName("create_time")).Message()
		tm.Set(tm.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(created.Unix()))
	}
	return m.Interface()
}

// unimplementedOps is an Operations service that implements nothing.
type unimplementedOps struct {
	longrunningpb.UnimplementedOperationsServer
}

func startUnimplemented(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	longrunningpb.RegisterOperationsServer(srv, unimplementedOps{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func newClientAt(addr string) (*lroauto.OperationsClient, error) {
	return lroauto.NewOperationsClient(context.Background(),
		option.WithEndpoint(addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
}
