// PyTorch checkpoints and the public BrainGFM architecture: the restricted reader against
// hand-written torch.save files (zip + pickle written here, byte by byte), its refusals, the
// fixture of the public code (exact outputs within 1e-4), import provenance, inputs and adaptation.
#include <cstring>
#include <filesystem>
#include <fstream>

#include <QCryptographicHash>
#include <QFile>
#include <QtTest>
#include <torch/torch.h>
#include <zip.h>

#include "errors/Error.h"
#include "io/Npy.h"
#include "io/TorchCheckpoint.h"
#include "model/BrainGfmPublic.h"
#include "model/ModelZoo.h"
#include "train/PublicCheckpoint.h"
#include "train/ZooPretraining.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Pickle protocol 2 opcodes, written out.
struct Pickle {
  std::string b;
  void op(char c) { b += c; }
  void le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void global(const std::string& module, const std::string& name) { b += "c" + module + "\n" + name + "\n"; }
  void str(const std::string& s) {
    op('X');
    le(s.size(), 4);
    b += s;
  }
  void integer(int v) {
    if (v >= 0 && v < 256) {
      op('K');
      b += static_cast<char>(v);
    } else {
      op('J');
      le(static_cast<std::uint32_t>(v), 4);
    }
  }
  void tuple(const std::vector<int>& v) {
    op('(');
    for (int x : v) integer(x);
    op('t');
  }
  // key: _rebuild_tensor_v2(storage(type, key, numel), offset, size, stride, False, OrderedDict())
  void tensor(const std::string& key, const std::string& storageType, const std::string& storageKey, int numel, int offset, const std::vector<int>& size,
              const std::vector<int>& stride, bool parameter = false) {
    str(key);
    if (parameter) global("torch._utils", "_rebuild_parameter");
    if (parameter) op('(');
    global("torch._utils", "_rebuild_tensor_v2");
    op('(');
    op('(');
    str("storage");
    global("torch", storageType);
    str(storageKey);
    str("cpu");
    integer(numel);
    op('t');
    op('Q');
    integer(offset);
    tuple(size);
    tuple(stride);
    op('\x89');
    global("collections", "OrderedDict");
    op(')');
    op('R');
    op('t');
    op('R');
    if (parameter) {
      op('\x88');
      global("collections", "OrderedDict");
      op(')');
      op('R');
      op('t');
      op('R');
    }
  }
  void begin() {
    b = "\x80\x02";
    global("collections", "OrderedDict");
    op(')');
    op('R');
    op('(');
  }
  std::string end() {
    op('u');
    op('.');
    return b;
  }
};

void writeZip(const fs::path& file, const std::vector<std::pair<std::string, std::string>>& entries, bool deflate = false) {
  zipFile z = zipOpen64(file.c_str(), APPEND_STATUS_CREATE);
  QVERIFY(z);
  for (const auto& [name, data] : entries) {
    zip_fileinfo info{};
    QCOMPARE(zipOpenNewFileInZip64(z, name.c_str(), &info, nullptr, 0, nullptr, 0, nullptr, deflate ? Z_DEFLATED : 0, deflate ? 6 : 0, 0), ZIP_OK);
    QCOMPARE(zipWriteInFileInZip(z, data.data(), static_cast<unsigned>(data.size())), ZIP_OK);
    QCOMPARE(zipCloseFileInZip(z), ZIP_OK);
  }
  QCOMPARE(zipClose(z, nullptr), ZIP_OK);
}

template <class T>
std::string bytesOf(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

fs::path scratch(const std::string& name) {
  const auto dir = fs::path(BRAINGRAPH_TEST_SCRATCH) / "checkpoint";
  fs::create_directories(dir);
  return dir / name;
}

fs::path fixture() { return fs::path(BRAINGRAPH_TEST_DATA) / "fixtures" / "braingfm-public"; }

bool fixtureAvailable() { return fs::exists(fixture() / "classifier_state.pt"); }

// The error a call raises (empty when none).
template <class F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const bg::Error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

class TestCheckpoint : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void readsHandWrittenStateDict() {
    Pickle p;
    p.begin();
    p.tensor("w", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}, true);
    p.tensor("w_t", "FloatStorage", "0", 6, 0, {3, 2}, {1, 3});  // a transposed view of the same storage
    p.tensor("tail", "FloatStorage", "0", 6, 4, {2}, {1});       // storage offset
    p.tensor("half", "HalfStorage", "1", 3, 0, {3}, {1});
    p.tensor("bf", "BFloat16Storage", "2", 2, 0, {2}, {1});
    p.tensor("count", "LongStorage", "3", 1, 0, {}, {});
    const std::vector<float> f = {0, 1, 2, 3, 4, 5};
    const std::vector<std::uint16_t> half = {0x3c00, 0xc000, 0x0001};  // 1, -2, the smallest subnormal
    const std::vector<std::uint16_t> bf = {0x3f80, 0xc0a0};            // 1, -5
    const std::vector<std::int64_t> count = {42};
    const auto file = scratch("hand.pt");
    writeZip(file,
             {{"hand/data.pkl", p.end()},
              {"hand/data/0", bytesOf(f)},
              {"hand/data/1", bytesOf(half)},
              {"hand/data/2", bytesOf(bf)},
              {"hand/data/3", bytesOf(count)},
              {"hand/version", "3\n"}},
             true);
    const auto s = bg::readTorchStateDict(file);
    QCOMPARE(s.root, std::string("hand"));
    QCOMPARE(s.keys, (std::vector<std::string>{"w", "w_t", "tail", "half", "bf", "count"}));
    QVERIFY(s.at("w").parameter);
    QVERIFY(!s.at("w_t").parameter);
    QCOMPARE(s.at("w").toFloat(), f);
    QCOMPARE(s.at("w_t").toFloat(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    QCOMPARE(s.at("tail").toFloat(), (std::vector<float>{4, 5}));
    const auto h = s.at("half").toFloat();
    QCOMPARE(h[0], 1.0f);
    QCOMPARE(h[1], -2.0f);
    QCOMPARE(h[2], std::ldexp(1.0f, -24));
    QCOMPARE(s.at("bf").toFloat(), (std::vector<float>{1, -5}));
    QCOMPARE(s.at("count").dtype, bg::CheckpointDType::Int64);
    QVERIFY(s.at("count").shape.empty());
    QCOMPARE(s.at("count").toFloat(), (std::vector<float>{42}));
    // The file's SHA-256, against Qt's own implementation.
    QFile qf(QString::fromStdString(file.string()));
    QVERIFY(qf.open(QIODevice::ReadOnly));
    QCOMPARE(s.sha256, QCryptographicHash::hash(qf.readAll(), QCryptographicHash::Sha256).toHex().toStdString());
  }

  void readsBigEndianStorages() {
    Pickle p;
    p.begin();
    p.tensor("x", "FloatStorage", "0", 2, 0, {2}, {1});
    const std::string be = std::string("\x3f\x80\x00\x00", 4) + std::string("\xc0\x00\x00\x00", 4);  // 1, -2 big-endian
    const auto file = scratch("big.pt");
    writeZip(file, {{"archive/data.pkl", p.end()}, {"archive/byteorder", "big"}, {"archive/data/0", be}});
    QCOMPARE(bg::readTorchStateDict(file).at("x").toFloat(), (std::vector<float>{1, -2}));
  }

  void refusesWhatAStateDictNeverHolds() {
    const std::vector<float> f = {0, 1};
    {  // a pickle that would run os.system in Python
      Pickle p;
      p.begin();
      p.str("x");
      p.global("os", "system");
      p.op('(');
      p.str("echo owned");
      p.op('t');
      p.op('R');
      const auto file = scratch("evil.pt");
      writeZip(file, {{"evil/data.pkl", p.end()}});
      const auto e = errorOf([&] { bg::readTorchStateDict(file); });
      QVERIFY2(e.find("os.system") != std::string::npos && e.find("evil.pt") != std::string::npos, e.c_str());
    }
    {  // a storage shorter than its tensor
      Pickle p;
      p.begin();
      p.tensor("x", "FloatStorage", "0", 2, 1, {2}, {1});
      const auto file = scratch("short.pt");
      writeZip(file, {{"s/data.pkl", p.end()}, {"s/data/0", bytesOf(f)}});
      const auto e = errorOf([&] { bg::readTorchStateDict(file); });
      QVERIFY2(e.find("shorter than its tensor") != std::string::npos && e.find("tensor x ") != std::string::npos, e.c_str());
    }
    {  // a storage record with fewer bytes than the pickle says
      Pickle p;
      p.begin();
      p.tensor("x", "FloatStorage", "0", 4, 0, {4}, {1});
      const auto file = scratch("short-record.pt");
      writeZip(file, {{"s/data.pkl", p.end()}, {"s/data/0", bytesOf(f)}});
      const auto e = errorOf([&] { bg::readTorchStateDict(file); });
      QVERIFY2(e.find("fewer than the 16") != std::string::npos, e.c_str());
    }
    {  // a zip directory claiming a storage far larger than the file: refused before any allocation
      Pickle p;
      p.begin();
      p.tensor("x", "FloatStorage", "0", 2, 0, {2}, {1});
      const auto file = scratch("claims.pt");
      writeZip(file, {{"s/data.pkl", p.end()}, {"s/data/0", bytesOf(f)}});
      std::string zip;
      {
        std::ifstream in(file, std::ios::binary);
        zip.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      }
      bool patched = false;
      for (auto at = zip.find("PK\x01\x02"); at != std::string::npos; at = zip.find("PK\x01\x02", at + 4)) {
        const auto nameLength = static_cast<unsigned char>(zip[at + 28]) | (static_cast<unsigned char>(zip[at + 29]) << 8);
        if (zip.compare(at + 46, nameLength, "s/data/0") != 0) continue;
        for (int i = 0; i < 4; ++i) zip[at + 24 + i] = "\xf0\xff\xff\x7f"[i];  // uncompressed size: 2 GiB
        patched = true;
      }
      QVERIFY(patched);
      std::ofstream(file, std::ios::binary) << zip;
      const auto e = errorOf([&] { bg::readTorchStateDict(file); });
      QVERIFY2(e.find("claims more data than the file holds") != std::string::npos, e.c_str());
    }
    {  // a missing storage record
      Pickle p;
      p.begin();
      p.tensor("x", "FloatStorage", "7", 2, 0, {2}, {1});
      const auto file = scratch("missing.pt");
      writeZip(file, {{"s/data.pkl", p.end()}});
      const auto e = errorOf([&] { bg::readTorchStateDict(file); });
      QVERIFY2(e.find("s/data/7") != std::string::npos && e.find("missing") != std::string::npos, e.c_str());
    }
    {  // an opcode no state dict uses (INST)
      const auto file = scratch("inst.pt");
      writeZip(file, {{"s/data.pkl", std::string("\x80\x02ios\nsystem\n.", 14)}});
      const auto e = errorOf([&] { bg::readTorchStateDict(file); });
      QVERIFY2(e.find("unsupported pickle opcode") != std::string::npos, e.c_str());
    }
    {  // the legacy format and a non-checkpoint
      const auto legacy = scratch("legacy.pt");
      std::ofstream(legacy, std::ios::binary) << std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
      QVERIFY(errorOf([&] { bg::readTorchStateDict(legacy); }).find("legacy torch.save format") != std::string::npos);
      const auto text = scratch("text.pt");
      std::ofstream(text) << "hello";
      QVERIFY(errorOf([&] { bg::readTorchStateDict(text); }).find("not a torch.save checkpoint") != std::string::npos);
      QVERIFY(errorOf([&] { bg::readTorchStateDict(scratch("absent.pt")); }).find("no such file") != std::string::npos);
    }
  }

  void readsTheFixtureAndRefusesItTruncated() {
    if (!fixtureAvailable()) QFAIL("the braingfm-public fixture is missing from the data path");
    const auto s = bg::readTorchStateDict(fixture() / "pretrain_state.pt");
    QCOMPARE(s.root, std::string("pretrain_state"));
    QCOMPARE(s.keys.size(), std::size_t{147});
    QCOMPARE(s.at("encoder.projection_layer.weight").shapeText(), std::string("[64, 128]"));
    QCOMPARE(s.at("encoder.lst_gnn.0.experts.0.bn.num_batches_tracked").dtype, bg::CheckpointDType::Int64);
    // Every prefix of the file is refused with a message, never a crash.
    std::ifstream in(fixture() / "classifier_state.pt", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::size_t cut : {std::size_t{3}, std::size_t{100}, std::size_t{30000}, bytes.size() / 2, bytes.size() - 200}) {
      const auto e = errorOf([&] { bg::parseTorchStateDict(reinterpret_cast<const std::uint8_t*>(bytes.data()), cut, "cut.pt"); });
      QVERIFY2(!e.empty() && e.find("cut.pt") != std::string::npos, e.c_str());
    }
  }

  // The public code's own outputs, reproduced within 1e-4.
  void publicArchitectureMatchesTheReference() {
    if (!fixtureAvailable()) QFAIL("the braingfm-public fixture is missing from the data path");
    torch::set_num_threads(1);
    const auto r = bg::train::checkPublicReference(fixture(), {}, {}, 1e-4);
    qInfo("fixture: max abs %.3g, max rel %.3g", r["max_abs"].get<double>(), r["max_rel"].get<double>());
    QVERIFY(r["logits_compared"].get<bool>());
    QCOMPARE(r["batches"].size(), std::size_t{2});
    for (const auto& b : r["batches"]) {
      QVERIFY2(b["embedding"]["max_abs"].get<double>() <= 1e-4, b.dump().c_str());
      QVERIFY2(b["logits"]["max_abs"].get<double>() <= 1e-4, b.dump().c_str());
    }
    QVERIFY(r["within_tolerance"].get<bool>());
    // The check can fail: another disease token moves the outputs far past the tolerance.
    auto state = bg::readTorchStateDict(fixture() / "classifier_state.pt");
    bg::train::PublicImportOptions o;
    o.heads = 4;
    auto m = bg::train::modelFromPublicState(state, o);
    auto a = m->config();
    QCOMPARE(a.hidden, 64);
    QCOMPARE(a.blocks, 2);
    QCOMPARE(a.attentionLayers, 2);
    QCOMPARE(a.maxNodes, 128);
    QCOMPARE(a.featureWidth, 128);
    QCOMPARE(a.diseaseTokens.size(), std::size_t{26});
    auto npy = [](const std::string& name) {
      const auto arr = bg::readNpyArray(fixture() / name);
      std::vector<float> v(arr.values.begin(), arr.values.end());
      return torch::tensor(v).view(std::vector<std::int64_t>(arr.shape.begin(), arr.shape.end()));
    };
    bg::model::GraphBatchInput in;
    in.fc = npy("batch1_node_feat.npy");
    in.adjacency = npy("batch1_adj.npy");
    in.mask = torch::arange(100).unsqueeze(0) < torch::tensor({100, 100, 90, 80}).unsqueeze(1);
    const auto reference = npy("batch1_embedding.npy");
    QVERIFY(reference.abs().max().item<double>() > 0.1);  // a real embedding, not zeros
    torch::NoGradGuard ng;
    m->setTokens("schaefer", "mdd");
    const double same = (m->embed(in) - reference).abs().max().item<double>();
    m->setTokens("schaefer", "asd");
    const double other = (m->embed(in) - reference).abs().max().item<double>();
    m->setTokens("schaefer200", "mdd");
    const double otherAtlas = (m->embed(in) - reference).abs().max().item<double>();
    qInfo("tokens schaefer/mdd: %.3g, schaefer/asd: %.3g, schaefer200/mdd: %.3g", same, other, otherAtlas);
    QVERIFY(same <= 1e-4);
    QVERIFY(other > 1e-3);
    QVERIFY(otherAtlas > 1e-3);
    // The padded graphs' rows matter: the same graphs without padding information differ.
    m->setTokens("schaefer", "mdd");
    in.mask = torch::ones({4, 100}, torch::kBool);
    QVERIFY((m->embed(in) - reference).abs().max().item<double>() > 1e-3);
  }

  void importRecordsProvenanceAndLoadsForAdaptation() {
    if (!fixtureAvailable()) QFAIL("the braingfm-public fixture is missing from the data path");
    bg::train::PublicImportOptions o;
    o.heads = 4;
    o.atlasToken = "schaefer200";
    const auto out = scratch("imported-pretrain.pt");
    const auto card = bg::train::importPublicCheckpoint(fixture() / "pretrain_state.pt", out, o);
    QCOMPARE(card["kind"].get<std::string>(), std::string(bg::kPublicImportKind));
    QFile qf(QString::fromStdString((fixture() / "pretrain_state.pt").string()));
    QVERIFY(qf.open(QIODevice::ReadOnly));
    QCOMPARE(card["source"]["sha256"].get<std::string>(), QCryptographicHash::hash(qf.readAll(), QCryptographicHash::Sha256).toHex().toStdString());
    QVERIFY(!card["head"]["from_checkpoint"].get<bool>());
    QCOMPARE(card["atlas_token"].get<std::string>(), std::string("schaefer200"));
    // block 0's transformer and GCN, the per-block heads and the autoencoder parts are listed as not imported
    QCOMPARE(card["not_imported"].size(), std::size_t{4});
    QVERIFY(card["unknown_keys"].empty());
    QVERIFY(card["assumed"]["heads"].get<std::string>().find("given") != std::string::npos);
    QVERIFY(!fs::exists(out.string() + ".tmp-" + std::to_string(::getpid())));

    // The file is a pre-training file of the public architecture; each method loads it.
    const auto info = bg::train::readPretrainedInfo(out);
    QCOMPARE(info.architecture, std::string("braingfm-public"));
    auto direct = bg::train::modelFromPublicState(bg::readTorchStateDict(fixture() / "pretrain_state.pt"), o);
    bg::model::GraphBatchInput in;
    torch::manual_seed(3);
    auto fc = torch::rand({3, 100, 100}) * 2 - 1;
    fc = (fc + fc.transpose(1, 2)) / 2;
    fc.diagonal(0, 1, 2).fill_(1.0);
    const auto mask = torch::arange(100).unsqueeze(0) < torch::tensor({100, 90, 100}).unsqueeze(1);
    in = bg::model::makeFcInput(fc, mask, 0.3);
    torch::NoGradGuard ng;
    direct->eval();
    const auto reference = direct->embed(in);
    for (const char* method : {"finetune", "linear", "prompt", "lora"}) {
      bg::model::AdaptationSpec spec;
      spec.method = method;
      auto m = bg::model::makeClassifier("braingfm-public", info.model, spec, 2, 100);
      (void)bg::train::loadPretrainedZoo(*m, out);
      m->attachAdapters();
      m->eval();
      QVERIFY2(torch::allclose(m->embed(in), reference, 1e-5, 1e-6), method);  // LoRA starts at zero
      const auto trainable = m->configureTrainable();
      std::int64_t n = 0;
      for (const auto& t : trainable) n += t.numel();
      const auto head = 64 * 2 + 2;
      if (std::string(method) == "linear") QCOMPARE(n, std::int64_t{head});
      if (std::string(method) == "prompt") QCOMPARE(n, std::int64_t{head + 128 * 128 + 128 * 128 + (128 * 64 + 64) + (64 * 4 + 4)});
      if (std::string(method) == "lora") QCOMPARE(n, std::int64_t{head + 2 * (8 * 64 + 192 * 8 + 8 * 64 + 64 * 8)});
      if (std::string(method) == "finetune") QCOMPARE(n, m->totalCount());
    }
    // A frozen encoder keeps BatchNorm's statistics while its head trains.
    bg::model::AdaptationSpec spec;
    spec.method = "prompt";
    auto m = bg::model::makeClassifier("braingfm-public", info.model, spec, 2, 100);
    (void)bg::train::loadPretrainedZoo(*m, out);
    auto* pub = dynamic_cast<bg::model::PublicGfmClassifierImpl*>(m.get());
    QVERIFY(pub);
    const auto before = pub->gcnNorm[0]->as<torch::nn::BatchNorm1dImpl>()->running_mean.clone();
    {
      torch::AutoGradMode grad(true);
      m->setTraining(true);
      (void)m->forward(in);
    }
    QVERIFY(torch::equal(before, pub->gcnNorm[0]->as<torch::nn::BatchNorm1dImpl>()->running_mean));
    // Monte Carlo dropout (train()) samples dropout but keeps the running statistics.
    m->setTraining(false);
    m->train();
    (void)m->forward(in);
    QVERIFY(torch::equal(before, pub->gcnNorm[0]->as<torch::nn::BatchNorm1dImpl>()->running_mean));
  }

  void importRefusesStateDictsItCannotUse() {
    const std::vector<float> w(64 * 128, 0.5f);
    Pickle p;
    p.begin();
    p.tensor("encoder.projection_layer.weight", "FloatStorage", "0", 64 * 128, 0, {64, 128}, {128, 1});
    const auto file = scratch("partial.pt");
    writeZip(file, {{"partial/data.pkl", p.end()}, {"partial/data/0", bytesOf(w)}});
    const auto out = scratch("partial-imported.pt");
    const auto e = errorOf([&] { bg::train::importPublicCheckpoint(file, out, {}); });
    QVERIFY2(e.find("partial.pt") != std::string::npos && e.find("encoder.disease_proj.weight") != std::string::npos, e.c_str());
    QVERIFY(!fs::exists(out));
    const auto other = scratch("other.pt");
    Pickle q;
    q.begin();
    q.tensor("fc.weight", "FloatStorage", "0", 4, 0, {2, 2}, {2, 1});
    writeZip(other, {{"o/data.pkl", q.end()}, {"o/data/0", bytesOf(w).substr(0, 16)}});
    QVERIFY(errorOf([&] { bg::train::importPublicCheckpoint(other, out, {}); }).find("not a BrainGFM state dict") != std::string::npos);
  }

  // Mixture of experts: each graph goes to one expert by its own mean token, so a batch gives what
  // each graph gives alone (evaluation mode).
  void mixtureOfExpertsRoutesEachGraph() {
    torch::manual_seed(11);
    auto c = bg::model::PublicGfmConfig::fromJson(
        {{"hidden", 32}, {"ffn", 32}, {"heads", 4}, {"attention_layers", 2}, {"experts", 3}, {"max_nodes", 64}, {"feature_width", 80}});
    bg::model::AdaptationSpec spec;
    spec.method = "scratch";
    bg::model::PublicGfmClassifier m(c, spec, 2);
    m->eval();
    torch::NoGradGuard ng;
    {  // random running statistics, so BatchNorm is not the identity
      auto& bn = *m->gcnNorm[1]->as<torch::nn::BatchNorm1dImpl>();
      bn.running_mean.normal_();
      bn.running_var.uniform_(0.5, 2.0);
    }
    auto fc = torch::rand({6, 40, 40}) * 2 - 1;
    fc = (fc + fc.transpose(1, 2)) / 2;
    fc.diagonal(0, 1, 2).fill_(1.0);
    const auto mask = torch::arange(40).unsqueeze(0) < torch::tensor({40, 40, 35, 40, 30, 40}).unsqueeze(1);
    const auto batch = m->embed(bg::model::makeFcInput(fc, mask, 0.3));
    for (int b = 0; b < 6; ++b) {
      const auto one = m->embed(bg::model::makeFcInput(fc.narrow(0, b, 1), mask.narrow(0, b, 1), 0.3));
      QVERIFY2(torch::allclose(one[0], batch[b], 1e-4, 1e-5), qPrintable(QString::number(b)));
    }
    // With three experts each graph may take another path: the batch must still equal the graphs alone,
    // and the experts' weights must matter (another expert's FFN changes some graph's embedding).
    auto& layer = *m->layers[1]->as<bg::model::PublicLayerImpl>();
    for (auto& e : *layer.experts) e->as<bg::model::PublicExpertImpl>()->fc2->weight.mul_(3.0);
    QVERIFY(!torch::allclose(m->embed(bg::model::makeFcInput(fc, mask, 0.3)), batch, 1e-4, 1e-5));
  }

  // Node features are the scan's FC rows and the adjacency is FC > 0.3 with the diagonal, as
  // main_finetune.py builds them; compared with loops over a stored FC matrix.
  void inputsFromTheWorkbenchPipeline() {
    torch::manual_seed(5);
    auto r = torch::randn({200, 60}).to(torch::kFloat64);
    auto fc = torch::corrcoef(r).to(torch::kFloat32);  // a genuine correlation matrix
    const int N = 200;
    const auto in = bg::model::makeFcInput(fc.unsqueeze(0), torch::ones({1, N}, torch::kBool), 0.3);
    const auto a = in.adjacency[0].contiguous();
    const auto f = in.fc[0].contiguous();
    const float* fp = fc.data_ptr<float>();
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) {
        QCOMPARE(a[i][j].item<float>(), fp[i * N + j] > 0.3f ? 1.0f : 0.0f);
        QCOMPARE(f[i][j].item<float>(), fp[i * N + j]);
      }
    QCOMPARE(a.diagonal().sum().item<float>(), float(N));  // the diagonal is kept
    // Tokens for the workbench's atlases and disorders.
    auto c = bg::model::PublicGfmConfig::fromJson(nullptr);
    auto t = bg::train::choosePublicTokens(c, json::object(), "schaefer100", 100, "ASD");
    QCOMPARE(t.atlas, std::string("schaefer"));
    QCOMPARE(t.disease, std::string("asd"));
    QVERIFY(t.notes.empty());
    t = bg::train::choosePublicTokens(c, json::object(), "cc200", 200, "diagnosis=odd-thing");
    QCOMPARE(t.atlas, std::string("schaefer200"));
    QCOMPARE(t.disease, std::string("none"));
    QCOMPARE(t.notes.size(), std::size_t{2});
    t = bg::train::choosePublicTokens(c, json{{"tokens_given", {{"atlas", true}}}, {"atlas_token", "aal116"}}, "cc200", 200, "MDD");
    QCOMPARE(t.atlas, std::string("aal116"));
    QCOMPARE(t.disease, std::string("mdd"));
  }
};

QTEST_GUILESS_MAIN(TestCheckpoint)
#include "test_checkpoint.moc"
