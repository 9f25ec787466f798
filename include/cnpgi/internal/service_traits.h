// Not part of the API: compile-time detection of which RPCs a plugin class
// overrides, from which PluginServer derives every capability it advertises.
#ifndef CNPGI_INTERNAL_SERVICE_TRAITS_H_
#define CNPGI_INTERNAL_SERVICE_TRAITS_H_

#include <cstdint>
#include <type_traits>

#include "cnpgi/backup_service.h"
#include "cnpgi/identity_service.h"
#include "cnpgi/lifecycle_service.h"
#include "cnpgi/metrics_service.h"
#include "cnpgi/operator_service.h"
#include "cnpgi/postgres_service.h"
#include "cnpgi/reconciler_hooks_service.h"
#include "cnpgi/restore_job_service.h"
#include "cnpgi/wal_service.h"

namespace cnpgi::internal {

// How an override is recognised, for a method M of base class B and a plugin
// class T:
// - `&T::M` names B::M itself (same member pointer type): not overridden;
// - `&T::M` names a member of a class between B and T with B::M's signature:
//   overridden (a virtual function redeclared with the same signature
//   always overrides);
// - `&T::M` names a member with another signature: T declares an unrelated
//   M that hides B::M (e.g. WalService::Restore next to
//   RestoreJobService::Restore): not overridden;
// - `&T::M` cannot be formed: B::M is public, so T or a class between must
//   have redeclared M, typically as a private override (`class X final :
//   public WalService { absl::Status Archive(...) override; }`), or
//   declared both Restore overloads: overridden.
template <class P>
struct MemberFunctionType;
template <class F, class C>
struct MemberFunctionType<F C::*> {
  using type = F;
};

template <class Resolved, class BaseMember>
constexpr bool IsOverride() {
  if constexpr (!Resolved::kResolves) {
    return true;
  } else if constexpr (std::is_same_v<typename Resolved::Type, BaseMember>) {
    return false;
  } else {
    return std::is_same_v<typename MemberFunctionType<typename Resolved::Type>::type,
                          typename MemberFunctionType<BaseMember>::type>;
  }
}

#define CNPGI_INTERNAL_DEFINE_RESOLVER(Name)                                         \
  template <class T, class = void>                                                   \
  struct Resolve##Name {                                                             \
    static constexpr bool kResolves = false;                                         \
    using Type = void;                                                               \
  };                                                                                 \
  template <class T>                                                                 \
  struct Resolve##Name<T, std::void_t<decltype(&T::Name)>> {                         \
    static constexpr bool kResolves = true;                                          \
    using Type = decltype(&T::Name);                                                 \
  };                                                                                 \
  template <class T, class Base>                                                     \
  constexpr std::uint32_t Overrides##Name(int bit) {                                 \
    return IsOverride<Resolve##Name<T>, decltype(&Base::Name)>() ? (1u << bit) : 0u; \
  }

CNPGI_INTERNAL_DEFINE_RESOLVER(Probe)
CNPGI_INTERNAL_DEFINE_RESOLVER(ValidateClusterCreate)
CNPGI_INTERNAL_DEFINE_RESOLVER(ValidateClusterChange)
CNPGI_INTERNAL_DEFINE_RESOLVER(MutateCluster)
CNPGI_INTERNAL_DEFINE_RESOLVER(SetStatusInCluster)
CNPGI_INTERNAL_DEFINE_RESOLVER(Deregister)
CNPGI_INTERNAL_DEFINE_RESOLVER(LifecycleHook)
CNPGI_INTERNAL_DEFINE_RESOLVER(Archive)
CNPGI_INTERNAL_DEFINE_RESOLVER(Restore)
CNPGI_INTERNAL_DEFINE_RESOLVER(Status)
CNPGI_INTERNAL_DEFINE_RESOLVER(SetFirstRequired)
CNPGI_INTERNAL_DEFINE_RESOLVER(Backup)
CNPGI_INTERNAL_DEFINE_RESOLVER(Pre)
CNPGI_INTERNAL_DEFINE_RESOLVER(Post)
CNPGI_INTERNAL_DEFINE_RESOLVER(EnrichConfiguration)
CNPGI_INTERNAL_DEFINE_RESOLVER(Define)
CNPGI_INTERNAL_DEFINE_RESOLVER(Collect)
// The higher-level forms: overriding either form of an RPC serves it.
CNPGI_INTERNAL_DEFINE_RESOLVER(OnValidateClusterCreate)
CNPGI_INTERNAL_DEFINE_RESOLVER(OnValidateClusterChange)
CNPGI_INTERNAL_DEFINE_RESOLVER(OnMutateCluster)
CNPGI_INTERNAL_DEFINE_RESOLVER(OnSetStatusInCluster)
CNPGI_INTERNAL_DEFINE_RESOLVER(OnLifecycle)
CNPGI_INTERNAL_DEFINE_RESOLVER(OnEnrichConfiguration)
CNPGI_INTERNAL_DEFINE_RESOLVER(DeclaredMetrics)
CNPGI_INTERNAL_DEFINE_RESOLVER(OnCollect)

#undef CNPGI_INTERNAL_DEFINE_RESOLVER

// Bit positions of each service's RPCs in an override mask. The adapters in
// src/server/ map them to the protocol's capability values.
enum OperatorRpc : int {
  kValidateClusterCreate,
  kValidateClusterChange,
  kMutateCluster,
  kSetStatusInCluster,
  kDeregister
};
enum WalRpc : int { kArchive, kRestoreWal, kStatus, kSetFirstRequired };
enum ReconcilerRpc : int { kPre, kPost };
enum MetricsRpc : int { kDefine, kCollect };
// Lifecycle, Backup, RestoreJob, Postgres and Identity have one RPC: bit 0.

template <class Base, class T>
constexpr std::uint32_t OverriddenRpcs() {
  if constexpr (std::is_same_v<Base, IdentityService>) {
    return OverridesProbe<T, Base>(0);
  } else if constexpr (std::is_same_v<Base, OperatorService>) {
    return OverridesValidateClusterCreate<T, Base>(kValidateClusterCreate) |
           OverridesOnValidateClusterCreate<T, Base>(kValidateClusterCreate) |
           OverridesValidateClusterChange<T, Base>(kValidateClusterChange) |
           OverridesOnValidateClusterChange<T, Base>(kValidateClusterChange) |
           OverridesMutateCluster<T, Base>(kMutateCluster) |
           OverridesOnMutateCluster<T, Base>(kMutateCluster) |
           OverridesSetStatusInCluster<T, Base>(kSetStatusInCluster) |
           OverridesOnSetStatusInCluster<T, Base>(kSetStatusInCluster) |
           OverridesDeregister<T, Base>(kDeregister);
  } else if constexpr (std::is_same_v<Base, LifecycleService>) {
    return OverridesLifecycleHook<T, Base>(0) | OverridesOnLifecycle<T, Base>(0);
  } else if constexpr (std::is_same_v<Base, WalService>) {
    return OverridesArchive<T, Base>(kArchive) | OverridesRestore<T, Base>(kRestoreWal) |
           OverridesStatus<T, Base>(kStatus) |
           OverridesSetFirstRequired<T, Base>(kSetFirstRequired);
  } else if constexpr (std::is_same_v<Base, BackupService>) {
    return OverridesBackup<T, Base>(0);
  } else if constexpr (std::is_same_v<Base, ReconcilerHooksService>) {
    return OverridesPre<T, Base>(kPre) | OverridesPost<T, Base>(kPost);
  } else if constexpr (std::is_same_v<Base, RestoreJobService>) {
    return OverridesRestore<T, Base>(0);
  } else if constexpr (std::is_same_v<Base, PostgresService>) {
    return OverridesEnrichConfiguration<T, Base>(0) | OverridesOnEnrichConfiguration<T, Base>(0);
  } else {
    static_assert(std::is_same_v<Base, MetricsService>);
    return OverridesDefine<T, Base>(kDefine) | OverridesDeclaredMetrics<T, Base>(kDefine) |
           OverridesCollect<T, Base>(kCollect) | OverridesOnCollect<T, Base>(kCollect);
  }
}

template <class T>
inline constexpr bool kIsServiceBase =
    std::is_same_v<T, OperatorService> || std::is_same_v<T, LifecycleService> ||
    std::is_same_v<T, WalService> || std::is_same_v<T, BackupService> ||
    std::is_same_v<T, ReconcilerHooksService> || std::is_same_v<T, RestoreJobService> ||
    std::is_same_v<T, PostgresService> || std::is_same_v<T, MetricsService>;

template <class T>
inline constexpr bool kDerivesFromAService =
    std::is_base_of_v<OperatorService, T> || std::is_base_of_v<LifecycleService, T> ||
    std::is_base_of_v<WalService, T> || std::is_base_of_v<BackupService, T> ||
    std::is_base_of_v<ReconcilerHooksService, T> || std::is_base_of_v<RestoreJobService, T> ||
    std::is_base_of_v<PostgresService, T> || std::is_base_of_v<MetricsService, T>;

}  // namespace cnpgi::internal

#endif  // CNPGI_INTERNAL_SERVICE_TRAITS_H_
