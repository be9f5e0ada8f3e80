"""Real Chinese administrative divisions and street-level address parts for the simulated merchant.

Serves the simulated sources of issue 2 (Build §3) that feed 采集层 (T/JNBDA 0003-2025 clause 4.3.4):
receivers, CRM members and stores need realistic addresses so that address parsing and
address-similarity matching (clause 6.1.3) meet the same shapes they meet in production.

The table holds real provinces, prefecture-level cities and their districts (about three hundred
districts). ``city_code`` is the first four digits of the city's GB/T 2260 code; identity numbers
use it as their area prefix. Streets and residential compounds (小区) are generic but typical names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class District:
    province: str
    city: str
    district: str
    city_code: str
    weight: float


# province | city | city code | population weight | districts (space separated)
_TABLE = """
北京市|北京市|1101|9|东城区 西城区 朝阳区 丰台区 石景山区 海淀区 门头沟区 房山区 通州区 顺义区 昌平区 大兴区
上海市|上海市|3101|9|黄浦区 徐汇区 长宁区 静安区 普陀区 虹口区 杨浦区 闵行区 宝山区 嘉定区 浦东新区 松江区
天津市|天津市|1201|4|和平区 河东区 河西区 南开区 河北区 红桥区 滨海新区 西青区
重庆市|重庆市|5001|5|渝中区 江北区 南岸区 九龙坡区 沙坪坝区 渝北区 巴南区 大渡口区
广东省|广州市|4401|8|荔湾区 越秀区 海珠区 天河区 白云区 黄埔区 番禺区 花都区 南沙区 增城区
广东省|深圳市|4403|8|罗湖区 福田区 南山区 宝安区 龙岗区 盐田区 龙华区 坪山区 光明区
广东省|东莞市|4419|3|莞城街道 南城街道 东城街道 虎门镇 长安镇
广东省|佛山市|4406|3|禅城区 南海区 顺德区 三水区 高明区
广东省|珠海市|4404|2|香洲区 斗门区 金湾区
浙江省|杭州市|3301|7|上城区 拱墅区 西湖区 滨江区 萧山区 余杭区 临平区 钱塘区 富阳区
浙江省|宁波市|3302|4|海曙区 江北区 北仑区 镇海区 鄞州区 奉化区
浙江省|温州市|3303|3|鹿城区 龙湾区 瓯海区 洞头区
浙江省|嘉兴市|3304|2|南湖区 秀洲区
江苏省|南京市|3201|6|玄武区 秦淮区 建邺区 鼓楼区 浦口区 栖霞区 雨花台区 江宁区
江苏省|苏州市|3205|6|虎丘区 吴中区 相城区 姑苏区 吴江区
江苏省|无锡市|3202|3|锡山区 惠山区 滨湖区 梁溪区 新吴区
江苏省|常州市|3204|2|天宁区 钟楼区 新北区 武进区
四川省|成都市|5101|6|锦江区 青羊区 金牛区 武侯区 成华区 龙泉驿区 青白江区 新都区 温江区 双流区 郫都区
四川省|绵阳市|5107|2|涪城区 游仙区 安州区
湖北省|武汉市|4201|6|江岸区 江汉区 硚口区 汉阳区 武昌区 青山区 洪山区 东西湖区 江夏区
湖北省|宜昌市|4205|2|西陵区 伍家岗区 点军区
湖南省|长沙市|4301|5|芙蓉区 天心区 岳麓区 开福区 雨花区 望城区
湖南省|株洲市|4302|2|荷塘区 芦淞区 石峰区 天元区
山东省|济南市|3701|4|历下区 市中区 槐荫区 天桥区 历城区 长清区
山东省|青岛市|3702|5|市南区 市北区 黄岛区 崂山区 李沧区 城阳区
山东省|烟台市|3706|2|芝罘区 福山区 牟平区 莱山区
河南省|郑州市|4101|5|中原区 二七区 管城回族区 金水区 上街区 惠济区
河南省|洛阳市|4103|2|老城区 西工区 瀍河回族区 涧西区 洛龙区
河北省|石家庄市|1301|4|长安区 桥西区 新华区 井陉矿区 裕华区
河北省|唐山市|1302|2|路南区 路北区 古冶区 开平区 丰南区
福建省|福州市|3501|4|鼓楼区 台江区 仓山区 马尾区 晋安区 长乐区
福建省|厦门市|3502|4|思明区 海沧区 湖里区 集美区 同安区 翔安区
福建省|泉州市|3505|2|鲤城区 丰泽区 洛江区 泉港区
陕西省|西安市|6101|5|新城区 碑林区 莲湖区 灞桥区 未央区 雁塔区 阎良区 临潼区 长安区
安徽省|合肥市|3401|4|瑶海区 庐阳区 蜀山区 包河区
安徽省|芜湖市|3402|2|镜湖区 弋江区 鸠江区
江西省|南昌市|3601|3|东湖区 西湖区 青云谱区 青山湖区 新建区
辽宁省|沈阳市|2101|4|和平区 沈河区 大东区 皇姑区 铁西区 浑南区
辽宁省|大连市|2102|3|中山区 西岗区 沙河口区 甘井子区 旅顺口区 金州区
吉林省|长春市|2201|3|南关区 宽城区 朝阳区 二道区 绿园区
黑龙江省|哈尔滨市|2301|3|道里区 南岗区 道外区 平房区 松北区 香坊区
山西省|太原市|1401|3|小店区 迎泽区 杏花岭区 尖草坪区 万柏林区 晋源区
云南省|昆明市|5301|3|五华区 盘龙区 官渡区 西山区 呈贡区
贵州省|贵阳市|5201|2|南明区 云岩区 花溪区 乌当区 白云区 观山湖区
广西壮族自治区|南宁市|4501|3|兴宁区 青秀区 江南区 西乡塘区 良庆区 邕宁区
广西壮族自治区|桂林市|4503|1|秀峰区 叠彩区 象山区 七星区 雁山区
海南省|海口市|4601|2|秀英区 龙华区 琼山区 美兰区
海南省|三亚市|4602|1|海棠区 吉阳区 天涯区 崖州区
甘肃省|兰州市|6201|2|城关区 七里河区 西固区 安宁区 红古区
内蒙古自治区|呼和浩特市|1501|2|新城区 回民区 玉泉区 赛罕区
新疆维吾尔自治区|乌鲁木齐市|6501|2|天山区 沙依巴克区 新市区 水磨沟区 头屯河区 米东区
宁夏回族自治区|银川市|6401|1|兴庆区 西夏区 金凤区
青海省|西宁市|6301|1|城东区 城中区 城西区 城北区
西藏自治区|拉萨市|5401|1|城关区 堆龙德庆区 达孜区
"""


def _parse_table() -> tuple[District, ...]:
    districts: list[District] = []
    for row in _TABLE.strip().splitlines():
        province, city, code, weight, names = row.split("|")
        names_list = names.split()
        for name in names_list:
            districts.append(District(province, city, name, code, float(weight) / len(names_list)))
    return tuple(districts)


DISTRICTS: tuple[District, ...] = _parse_table()

STREET_NAMES: tuple[str, ...] = (
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "和平路",
    "新华路",
    "胜利路",
    "长江路",
    "黄河路",
    "友谊路",
    "文化路",
    "青年路",
    "光明路",
    "朝阳路",
    "幸福路",
    "迎宾大道",
    "学府路",
    "工业大道",
    "滨江路",
    "湖滨路",
    "东风路",
    "南京路",
    "北京路",
    "延安路",
    "复兴路",
    "建国路",
    "科技路",
    "创业路",
    "花园路",
    "金融街",
)

COMPOUND_NAMES: tuple[str, ...] = (
    "阳光花园",
    "锦绣华庭",
    "翠湖苑",
    "金色家园",
    "碧桂园",
    "万科城",
    "保利花园",
    "绿城桂花园",
    "龙湖春江郦城",
    "世纪华庭",
    "书香门第",
    "紫薇苑",
    "枫林绿洲",
    "星河湾",
    "中海国际社区",
    "恒大名都",
    "融创壹号院",
    "海棠湾",
    "东方明珠花园",
    "丽景湾",
    "翡翠城",
    "御景园",
    "富力城",
    "招商雍景湾",
    "金地格林小镇",
    "新城国际",
    "时代广场公寓",
    "蓝湾半岛",
    "华润二十四城",
    "雅居乐花园",
)

# Where a province's name shortens in everyday writing (收货地址 typed by buyers).
PROVINCE_SHORT: dict[str, str] = {
    "广西壮族自治区": "广西",
    "内蒙古自治区": "内蒙古",
    "新疆维吾尔自治区": "新疆",
    "宁夏回族自治区": "宁夏",
    "西藏自治区": "西藏",
}

# Typos a buyer really makes in these names: homophones / near shapes (index within the text).
TYPO_SWAPS: dict[str, str] = {
    "区": "去",
    "路": "露",
    "园": "圆",
    "华": "化",
    "苑": "院",
    "城": "成",
    "湾": "弯",
    "庭": "亭",
    "号": "好",
    "栋": "洞",
    "单": "担",
    "元": "园",
    "室": "是",
    "花": "华",
    "海": "每",
    "金": "今",
}

ZIP_PREFIX: dict[str, str] = {
    "1101": "100",
    "3101": "200",
    "1201": "300",
    "5001": "400",
    "4401": "510",
    "4403": "518",
    "3301": "310",
    "3201": "210",
    "5101": "610",
    "4201": "430",
    "4301": "410",
    "3701": "250",
}


def short_province(province: str) -> str:
    """The name without its 省/市 suffix, as people write it (广东省 → 广东, 北京市 → 北京)."""
    if province in PROVINCE_SHORT:
        return PROVINCE_SHORT[province]
    return province[:-1] if province.endswith(("省", "市")) else province
